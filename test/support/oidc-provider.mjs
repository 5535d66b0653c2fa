// A real OpenID Connect provider (oidc-provider from npm) for the tests, run as its own process by
// test/support/oidc-provider.ts: oidc-provider is an ES module, which Jest's module system does not
// load. Its signing keys come from the test (OIDC_TEST_JWKS, a JWKS with private keys) and can be
// replaced while it runs (POST /__test/keys): a new Provider with the same issuer takes over, as a
// provider rotating its keys would. Logins are scripted: the interaction page finishes the login
// at once as the `login_hint` of the authorization request, with the `amr`, `acr`, roles and login
// age the test asked for (extra parameters test_amr, test_acr, test_roles, test_login_age), and the
// address (test_email: `email` and `email_verified: true` in the access token).
import { createServer } from 'node:http';
import Provider, { errors } from 'oidc-provider';

const ISSUER_PORT = Number(process.env.OIDC_TEST_PORT ?? 0);
/** The API Custos is, as a resource indicator: tokens for it carry `aud: custos`. */
const CUSTOS = 'urn:custos:api';
/** The same audience, with tokens that live one second (for the expired-token test). */
const CUSTOS_SHORT = 'urn:custos:api:short-lived';
/** Another API: its tokens carry `aud: other-api`. */
const OTHER = 'urn:other:api';
/** The roles each machine client's tokens carry. */
const CLIENT_ROLES = { 'custos-admin': ['custos:admin'], 'custos-hr': ['custos:hr'], 'custos-auditor': ['custos:auditor'], 'custos-nobody': [] };

const server = createServer();
await new Promise((resolve) => server.listen(ISSUER_PORT, '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;

/** Roles of the accounts that logged in, as their login asked. */
const accountRoles = new Map();
/** Addresses of the accounts that logged in with one. */
const accountEmails = new Map();
const stats = { jwksRequests: 0 };

function newProvider(jwks) {
  const alg = jwks.keys[0].alg;
  const provider = new Provider(issuer, {
    jwks,
    clients: [
      {
        client_id: 'custos-web',
        client_secret: 'custos-web-secret',
        grant_types: ['authorization_code'],
        response_types: ['code'],
        redirect_uris: ['http://localhost:9/callback'],
        id_token_signed_response_alg: alg,
      },
      ...Object.keys(CLIENT_ROLES).map((id) => ({
        client_id: id,
        client_secret: `${id}-secret`,
        grant_types: ['client_credentials'],
        response_types: [],
        redirect_uris: [],
        id_token_signed_response_alg: alg,
      })),
    ],
    clientDefaults: { id_token_signed_response_alg: alg },
    cookies: { keys: ['oidc-test-cookies'] },
    extraParams: ['test_amr', 'test_acr', 'test_roles', 'test_login_age', 'test_email'],
    pkce: { required: () => true },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: (_ctx, _client, oneOf) => oneOf ?? CUSTOS,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx, indicator) => {
          const jwt = { sign: { alg } };
          if (indicator === CUSTOS) return { scope: 'custos', audience: 'custos', accessTokenFormat: 'jwt', accessTokenTTL: 600, jwt };
          if (indicator === CUSTOS_SHORT) return { scope: 'custos', audience: 'custos', accessTokenFormat: 'jwt', accessTokenTTL: 1, jwt };
          if (indicator === OTHER) return { scope: 'custos', audience: 'other-api', accessTokenFormat: 'jwt', accessTokenTTL: 600, jwt };
          throw new errors.InvalidTarget();
        },
      },
    },
    findAccount: (_ctx, accountId) => ({ accountId, claims: () => ({ sub: accountId }) }),
    // Roles under realm_access.roles, as Keycloak puts them; amr, acr and auth_time of the login.
    extraTokenClaims: (ctx, token) => {
      if (token.kind === 'ClientCredentials') return { realm_access: { roles: CLIENT_ROLES[token.clientId] ?? [] } };
      const code = ctx.oidc.entities.AuthorizationCode;
      return {
        realm_access: { roles: accountRoles.get(token.accountId) ?? [] },
        ...(accountEmails.has(token.accountId) ? { email: accountEmails.get(token.accountId), email_verified: true } : {}),
        ...(code?.amr ? { amr: code.amr } : {}),
        ...(code?.acr ? { acr: code.acr } : {}),
        ...(code?.authTime ? { auth_time: code.authTime } : {}),
      };
    },
  });
  return provider;
}

let provider = newProvider(JSON.parse(process.env.OIDC_TEST_JWKS));
let handle = provider.callback();

/** The scripted login: as the login_hint, with what the test asked for, and consent to openid and the API. */
async function interaction(req, res) {
  const details = await provider.interactionDetails(req, res);
  const { params } = details;
  const accountId = params.login_hint;
  if (!accountId) throw new Error('the test logs in with a login_hint');
  accountRoles.set(accountId, params.test_roles ? params.test_roles.split(' ') : []);
  if (params.test_email) accountEmails.set(accountId, params.test_email);
  else accountEmails.delete(accountId);
  const grant = new provider.Grant({ accountId, clientId: params.client_id });
  grant.addOIDCScope('openid');
  grant.addResourceScope(params.resource ?? CUSTOS, 'custos');
  const grantId = await grant.save();
  const age = Number(params.test_login_age ?? 0);
  await provider.interactionFinished(
    req,
    res,
    {
      login: {
        accountId,
        ...(params.test_amr ? { amr: params.test_amr.split(' ') } : {}),
        ...(params.test_acr ? { acr: params.test_acr } : {}),
        ts: Math.floor(Date.now() / 1000) - age,
      },
      consent: { grantId },
    },
    { mergeWithLastSubmission: false },
  );
}

async function readBody(req) {
  let body = '';
  for await (const chunk of req) body += chunk;
  return body;
}

server.on('request', (req, res) => {
  const path = new URL(req.url, issuer).pathname;
  const fail = (error) => {
    res.statusCode = 500;
    res.end(String(error?.stack ?? error));
  };
  if (path === '/__test/keys' && req.method === 'POST') {
    // Key rotation: the old keys are gone, the new ones signed with from now on.
    readBody(req)
      .then((body) => {
        provider = newProvider(JSON.parse(body));
        handle = provider.callback();
        res.end('{}');
      })
      .catch(fail);
    return;
  }
  if (path === '/__test/stats') {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(stats));
    return;
  }
  if (path.startsWith('/interaction/')) {
    interaction(req, res).catch(fail);
    return;
  }
  if (path === '/jwks') stats.jwksRequests += 1;
  handle(req, res);
});

process.stdout.write(`${JSON.stringify({ issuer })}\n`);
process.on('SIGTERM', () => server.close(() => process.exit(0)));
