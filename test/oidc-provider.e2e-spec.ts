import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { eventually } from '@custos/platform/testing';
import { decodeJwt, decodeProtectedHeader, importJWK, SignJWT, type JWTPayload, type KeyLike } from 'jose';
import { CustosClient } from './support/client';
import { EntitlementApi, type Employee } from './support/entitlement-api';
import { RESOURCES, signingKey, startOidcProvider, type RunningOidcProvider, type SigningKey } from './support/oidc-provider';
import { RunningProcess, startProcess } from './support/processes';

/** Machine clients of the provider and the roles their tokens carry (oidc-provider.mjs). */
const CLIENT_OF_ROLE: Record<string, string> = { 'custos:admin': 'custos-admin', 'custos:hr': 'custos-hr', 'custos:auditor': 'custos-auditor' };
const STEP_UP_MAX_AGE = 600;
const JWKS_COOLDOWN_SEC = 5;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/**
 * Custos against a real OpenID Connect provider: oidc-provider (npm) on a free port, with client
 * credentials for the machine callers and an authorization-code login (PKCE, driven here as a
 * browser would) for people. Custos (the all-in-one, embedded store) finds the provider's JWKS
 * through discovery, reads the roles at Keycloak's `realm_access.roles`, refuses every token that
 * is not the provider's own for its audience, follows a key rotation without a restart, and asks
 * for a step-up (RFC 9470 challenge) on a privileged approval without a recent multi-factor login.
 */
describe('authentication against a real OpenID Connect provider (oidc-provider)', () => {
  let key1: SigningKey;
  let provider: RunningOidcProvider;
  let custos: RunningProcess;
  let client: CustosClient;
  let api: EntitlementApi;
  let dataDir: string;

  const get = (path: string, token: string) => client.call('GET', path, { token });
  /** The provider's token, with the claims or header changed and the signature kept. */
  const tampered = (token: string, change: { header?: Record<string, unknown>; payload?: Record<string, unknown> }) => {
    const [header, payload, signature] = token.split('.');
    const newHeader = change.header ? b64url({ ...decodeProtectedHeader(token), ...change.header }) : header;
    const newPayload = change.payload ? b64url({ ...decodeJwt(token), ...change.payload }) : payload;
    return `${newHeader}.${newPayload}.${signature}`;
  };
  /** A token with the provider's claims, signed by a key the provider never had. */
  const forged = async (claims: JWTPayload, kid: string) => {
    const stranger = await signingKey(kid);
    return new SignJWT(claims)
      .setProtectedHeader({ alg: 'ES256', kid, typ: 'at+jwt' })
      .sign((await importJWK(stranger.privateJwk, 'ES256')) as KeyLike);
  };
  const expectRefused = (response: { status: number; headers: Headers; body: any }) => {
    expect([response.status, response.headers.get('www-authenticate'), response.body?.type]).toEqual([401, 'Bearer error="invalid_token"', 'urn:custos:problem:unauthenticated']);
  };

  beforeAll(async () => {
    key1 = await signingKey('key-1');
    provider = await startOidcProvider([key1]);
    dataDir = mkdtempSync(path.join(tmpdir(), 'custos-oidc-'));
    custos = await startProcess('custos', 'apps/custos/src/main.ts', {
      CUSTOS_DATA_DIR: dataDir,
      DATABASE_URL: undefined,
      NATS_URL: undefined,
      CUSTOS_NAMESPACE: undefined,
      CUSTOS_DEV_AUTH: undefined,
      CUSTOS_OIDC_ISSUER: provider.issuer,
      CUSTOS_OIDC_AUDIENCE: 'custos',
      CUSTOS_OIDC_ROLES_CLAIM: 'realm_access.roles',
      CUSTOS_OIDC_CLOCK_SKEW: '1',
      CUSTOS_OIDC_JWKS_COOLDOWN: String(JWKS_COOLDOWN_SEC),
      CUSTOS_STEP_UP_MAX_AGE: String(STEP_UP_MAX_AGE),
      CUSTOS_STEP_UP_ACR: 'gold',
      // This test sends many refused tokens from one address on purpose.
      CUSTOS_AUTH_FAILURE_LIMIT: '0',
    }, 120_000);
    client = new CustosClient(
      () => custos.url,
      async ({ sub, roles = [], amr }) => {
        const machine = roles.length === 1 ? CLIENT_OF_ROLE[roles[0]] : undefined;
        return machine ? provider.clientCredentials(machine) : provider.login({ sub, roles, amr: amr ?? ['pwd'] });
      },
    );
    api = new EntitlementApi(client);
  }, 180_000);

  afterAll(async () => {
    await custos?.stop();
    await provider?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  }, 60_000);

  it('accepts the provider\'s tokens (JWKS found through discovery): a machine client\'s roles and a person\'s login, roles read at realm_access.roles', async () => {
    const admin = await provider.clientCredentials('custos-admin');
    expect(decodeJwt(admin)).toMatchObject({ iss: provider.issuer, aud: 'custos', sub: 'custos-admin', realm_access: { roles: ['custos:admin'] } });
    expect((await get('/catalog/entitlements', admin)).status).toBe(200);

    const nobody = await provider.clientCredentials('custos-nobody');
    const refused = await client.call('POST', '/catalog/entitlements', { token: nobody, body: { key: api.key('x:y'), application: 'x', name: 'y', privileged: false, risk: 'low' } });
    expect([refused.status, refused.body.type]).toEqual([403, 'urn:custos:problem:forbidden']);

    const auditor = await provider.login({ sub: 'auditor-7', roles: ['custos:auditor'], amr: ['pwd'] });
    expect(decodeJwt(auditor)).toMatchObject({ sub: 'auditor-7', amr: ['pwd'], auth_time: expect.any(Number), client_id: 'custos-web' });
    expect((await get('/audit/events?limit=1', auditor)).status).toBe(200);
    expect((await get('/catalog/entitlements', auditor)).status).toBe(200);
    expect((await get('/audit/events?limit=1', admin)).status).toBe(403);
  });

  it('refuses a token for another audience, from another issuer (even one signing with the same key), expired, or with its claims changed', async () => {
    expectRefused(await get('/catalog/entitlements', await provider.clientCredentials('custos-admin', RESOURCES.other)));

    const elsewhere = await startOidcProvider([key1]);
    try {
      const foreign = await elsewhere.clientCredentials('custos-admin');
      // Same key, same kid, same audience: the signature holds, the issuer does not.
      expect(decodeProtectedHeader(foreign).kid).toBe('key-1');
      expectRefused(await get('/catalog/entitlements', foreign));
    } finally {
      await elsewhere.stop();
    }

    const shortLived = await provider.clientCredentials('custos-admin', RESOURCES.custosShortLived);
    expect(decodeJwt(shortLived).exp! - decodeJwt(shortLived).iat!).toBe(1);
    // Past exp and the 1 s of skew this Custos allows.
    await sleep(3_000);
    expectRefused(await get('/catalog/entitlements', shortLived));

    const nobody = await provider.clientCredentials('custos-nobody');
    expectRefused(await get('/catalog/entitlements', tampered(nobody, { payload: { realm_access: { roles: ['custos:admin'] } } })));
  });

  it('refuses alg none, an HMAC keyed with the provider\'s public key, and a signature by another key', async () => {
    const admin = await provider.clientCredentials('custos-admin');
    const claims = decodeJwt(admin);

    const [, payload] = admin.split('.');
    expectRefused(await get('/catalog/entitlements', `${b64url({ alg: 'none', typ: 'at+jwt' })}.${payload}.`));
    expectRefused(await get('/catalog/entitlements', tampered(admin, { header: { alg: 'none' } })));

    // The classic confusion: HS256 whose secret is the public key an RS/ES verifier would use.
    const publicKeyAsSecret = new TextEncoder().encode(JSON.stringify(key1.publicJwk));
    const hmac = await new SignJWT(claims).setProtectedHeader({ alg: 'HS256', kid: 'key-1', typ: 'at+jwt' }).sign(publicKeyAsSecret);
    expectRefused(await get('/catalog/entitlements', hmac));

    expectRefused(await get('/catalog/entitlements', await forged(claims, 'key-1')));
    expectRefused(await get('/catalog/entitlements', await forged(claims, 'key-unknown')));
  });

  it('follows a key rotation without a restart: the new key is fetched once, tokens of the removed key are refused', async () => {
    const beforeRotation = await provider.clientCredentials('custos-admin');
    expect(decodeProtectedHeader(beforeRotation).kid).toBe('key-1');

    await provider.rotate([await signingKey('key-2')]);
    const afterRotation = await provider.clientCredentials('custos-admin');
    expect(decodeProtectedHeader(afterRotation).kid).toBe('key-2');
    // Past the JWKS cooldown since the last fetch (the unknown kids above made one).
    await sleep(JWKS_COOLDOWN_SEC * 1000 + 500);
    const fetchesBefore = await provider.jwksRequests();
    expect((await get('/catalog/entitlements', afterRotation)).status).toBe(200);
    expect(await provider.jwksRequests()).toBe(fetchesBefore + 1);
    // Never shown to Custos before: not in its cache of verified tokens, and its key is gone.
    expectRefused(await get('/catalog/entitlements', beforeRotation));

    // Unknown key ids within the cooldown fetch nothing more: one refresh per cooldown, whatever a caller sends.
    const claims = decodeJwt(afterRotation);
    const unknown = await Promise.all(['a', 'b', 'c', 'd'].map((kid) => forged(claims, `key-${kid}`)));
    const fetchesNow = await provider.jwksRequests();
    for (const response of await Promise.all(unknown.map((token) => get('/catalog/entitlements', token)))) expectRefused(response);
    expect(await provider.jwksRequests()).toBeLessThanOrEqual(fetchesNow + 1);
  });

  describe('step-up on a privileged approval', () => {
    let mia: string, sec: string, ada: string;
    const approve = async (approver: string, requestId: string, login: { amr?: string[]; acr?: string; loginAgeSec: number }) =>
      client.call('POST', `/requests/${requestId}/approve`, { token: await provider.login({ sub: approver, ...login }), body: { comment: 'ok' } });
    const request = async (entitlement: string): Promise<string> => {
      const token = await provider.login({ sub: ada, amr: ['pwd'] });
      // The request context learns identities, grants and the catalog from their events: ask until it has.
      const submitted = await eventually(() => client.call('POST', '/requests', { token, body: { entitlement, justification: 'on call this week' } }), {
        accept: (r) => r.status === 201 && r.body.steps?.[1]?.approverIds?.includes(sec),
        what: 'the request context to know Ada, her manager, the security approver and the entitlement',
        timeoutMs: 60_000,
        intervalMs: 250,
      });
      return submitted.body.requestId as string;
    };

    beforeAll(async () => {
      mia = await api.hire('Mia', { department: api.key('Ops') });
      sec = await api.hire('Sec', { department: api.key('Security') });
      ada = await api.hire('Ada', { department: api.key('Ops'), managerEmployeeId: `E-Mia-${api.run}` } as Partial<Employee>);
      expect((await api.asAdmin('POST', '/catalog/entitlements', { key: 'custos:security', application: 'custos', name: 'Security approver', privileged: false, risk: 'high' })).status).toBe(201);
      await eventually(() => api.asAdmin('POST', `/access/${sec}/grant`, { entitlement: 'custos:security', reason: 'security approver' }), { accept: (r) => r.status < 300, what: 'the entitlement context to know Sec', timeoutMs: 60_000, intervalMs: 250 });
      for (const key of [api.key('prod:admin'), api.key('prod:root')]) {
        const policy = { steps: [{ kind: 'manager', required: 1 }, { kind: 'security', required: 1 }] };
        const defined = await api.asAdmin('POST', '/catalog/entitlements', { key, application: 'prod', name: key, privileged: true, risk: 'high', approvalPolicy: policy });
        expect([defined.status, defined.body]).toEqual([201, expect.objectContaining({ key })]);
      }
    }, 120_000);

    it('asks for a fresh multi-factor login (acr_values, max_age, RFC 9470 challenge) when the login had none, or is too old', async () => {
      const requestId = await request(api.key('prod:admin'));
      for (const login of [{ amr: ['pwd'], loginAgeSec: 10 }, { amr: ['pwd', 'mfa'], loginAgeSec: STEP_UP_MAX_AGE + 300 }, { amr: ['pwd'], acr: 'silver', loginAgeSec: 10 }]) {
        const refused = await approve(mia, requestId, login);
        expect([refused.status, refused.body]).toEqual([403, expect.objectContaining({ type: 'urn:custos:problem:step-up-required', acr_values: 'gold', max_age: STEP_UP_MAX_AGE })]);
        expect(refused.headers.get('www-authenticate')).toBe(
          `Bearer error="insufficient_user_authentication", error_description="a multi-factor login is required for this action", acr_values="gold", max_age="${STEP_UP_MAX_AGE}"`,
        );
      }
      const byManager = await approve(mia, requestId, { amr: ['pwd', 'mfa'], loginAgeSec: 30 });
      expect([byManager.status, byManager.body.steps?.[0]?.status]).toEqual([200, 'approved']);
      const bySecurity = await approve(sec, requestId, { amr: ['pwd', 'otp', 'mfa'], loginAgeSec: 30 });
      expect([bySecurity.status, bySecurity.body.status]).toEqual([200, expect.stringMatching(/^(approved|fulfilled)$/)]);
    });

    it('counts a configured acr (CUSTOS_STEP_UP_ACR=gold) from a recent login as a multi-factor one', async () => {
      const requestId = await request(api.key('prod:root'));
      const stale = await approve(mia, requestId, { amr: ['pwd'], acr: 'gold', loginAgeSec: STEP_UP_MAX_AGE + 300 });
      expect([stale.status, stale.body.type]).toEqual([403, 'urn:custos:problem:step-up-required']);
      const byManager = await approve(mia, requestId, { amr: ['pwd'], acr: 'gold', loginAgeSec: 30 });
      expect([byManager.status, byManager.body.steps?.[0]?.status]).toEqual([200, 'approved']);
      const bySecurity = await approve(sec, requestId, { acr: 'gold', loginAgeSec: 30 });
      expect([bySecurity.status, bySecurity.body.status]).toEqual([200, expect.stringMatching(/^(approved|fulfilled)$/)]);
    });
  });
});
