import { ChildProcess, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import * as path from 'node:path';
import { exportJWK, generateKeyPair, type JWK } from 'jose';

/** Resource indicators the provider knows (oidc-provider.mjs): Custos (`aud: custos`), the same with one-second tokens, another API. */
export const RESOURCES = { custos: 'urn:custos:api', custosShortLived: 'urn:custos:api:short-lived', other: 'urn:other:api' } as const;
type Resource = (typeof RESOURCES)[keyof typeof RESOURCES];

/** A signing key: the private JWK the provider signs with, and its public part. */
export interface SigningKey {
  privateJwk: JWK;
  publicJwk: JWK;
}

/** A fresh ES256 signing key with this key id. */
export async function signingKey(kid: string): Promise<SigningKey> {
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  const privateJwk = { ...(await exportJWK(privateKey)), kid, alg: 'ES256', use: 'sig' };
  const { d: _d, ...publicJwk } = privateJwk;
  return { privateJwk, publicJwk };
}

export interface UserLogin {
  /** The account that logs in: the token's `sub` (an identity id, for Custos). */
  sub: string;
  amr?: string[];
  acr?: string;
  roles?: string[];
  /** The account's address, put in the access token as `email` (with `email_verified: true`). */
  email?: string;
  /** How long ago the login happened, in seconds (`auth_time`). */
  loginAgeSec?: number;
  resource?: Resource;
}

export interface RunningOidcProvider {
  issuer: string;
  /** An access token of a machine client (client credentials grant): custos-admin, custos-hr, custos-auditor, custos-nobody. */
  clientCredentials(clientId: string, resource?: Resource): Promise<string>;
  /** An access token from an authorization-code login (PKCE) driven as a browser would: authorize, interaction, resume, token. */
  login(login: UserLogin): Promise<string>;
  /** Replaces the provider's signing keys (key rotation: the old ones are gone). */
  rotate(keys: SigningKey[]): Promise<void>;
  /** How many times its JWKS was fetched. */
  jwksRequests(): Promise<number>;
  output(): string;
  stop(): Promise<void>;
}

/**
 * Starts oidc-provider (test/support/oidc-provider.mjs) as a process of its own on a free port,
 * signing with `keys`. A real provider: discovery, JWKS, client credentials and authorization
 * code with PKCE, tokens as RFC 9068 JWTs.
 */
export async function startOidcProvider(keys: SigningKey[]): Promise<RunningOidcProvider> {
  const script = path.resolve(__dirname, 'oidc-provider.mjs');
  const child: ChildProcess = spawn(process.execPath, [script], {
    env: { ...process.env, OIDC_TEST_JWKS: JSON.stringify({ keys: keys.map((k) => k.privateJwk) }) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stderr?.on('data', (chunk) => (output += chunk));
  const issuer = await new Promise<string>((resolve, reject) => {
    let line = '';
    const timer = setTimeout(() => reject(new Error(`the OIDC provider did not start:\n${output}`)), 30_000);
    child.stdout?.on('data', (chunk) => {
      line += chunk;
      if (!line.includes('\n')) return;
      clearTimeout(timer);
      resolve((JSON.parse(line.split('\n')[0]) as { issuer: string }).issuer);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the OIDC provider exited (${code}):\n${output}`));
    });
  });

  const token = async (clientId: string, secret: string, form: Record<string, string>): Promise<string> => {
    const response = await fetch(`${issuer}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${clientId}:${secret}`).toString('base64')}` },
      body: new URLSearchParams(form),
    });
    const body = (await response.json()) as { access_token?: string; error?: string; error_description?: string };
    if (!response.ok || !body.access_token) throw new Error(`token endpoint: ${response.status} ${body.error}: ${body.error_description}`);
    return body.access_token;
  };

  return {
    issuer,
    clientCredentials: (clientId, resource = RESOURCES.custos) => token(clientId, `${clientId}-secret`, { grant_type: 'client_credentials', scope: 'custos', resource }),
    async login(login) {
      const resource = login.resource ?? RESOURCES.custos;
      const redirectUri = 'http://localhost:9/callback';
      const verifier = randomBytes(32).toString('base64url');
      const cookies = new Map<string, string>();
      const get = async (url: string): Promise<string> => {
        const response = await fetch(url, { redirect: 'manual', headers: { cookie: [...cookies].map(([name, value]) => `${name}=${value}`).join('; ') } });
        for (const cookie of response.headers.getSetCookie()) {
          const [pair] = cookie.split(';');
          const [name, ...value] = pair.split('=');
          if (value.join('=')) cookies.set(name.trim(), value.join('='));
          else cookies.delete(name.trim());
        }
        const location = response.headers.get('location');
        if (response.status < 300 || response.status >= 400 || !location) throw new Error(`login: ${url} answered ${response.status}: ${await response.text()}`);
        return new URL(location, issuer).toString();
      };
      const authorize = new URL(`${issuer}/auth`);
      for (const [name, value] of Object.entries({
        client_id: 'custos-web',
        response_type: 'code',
        scope: 'openid custos',
        redirect_uri: redirectUri,
        state: randomBytes(8).toString('hex'),
        code_challenge: createHash('sha256').update(verifier).digest('base64url'),
        code_challenge_method: 'S256',
        resource,
        login_hint: login.sub,
        ...(login.amr ? { test_amr: login.amr.join(' ') } : {}),
        ...(login.acr ? { test_acr: login.acr } : {}),
        ...(login.roles ? { test_roles: login.roles.join(' ') } : {}),
        ...(login.email ? { test_email: login.email } : {}),
        test_login_age: String(login.loginAgeSec ?? 0),
      })) {
        authorize.searchParams.set(name, value);
      }
      // /auth -> /interaction/<uid> (the scripted login) -> /auth/<uid> -> the redirect URI with the code.
      let url = await get(authorize.toString());
      for (let hop = 0; hop < 5 && !url.startsWith(redirectUri); hop += 1) url = await get(url);
      const code = new URL(url).searchParams.get('code');
      if (!code) throw new Error(`login: no code in ${url}`);
      return token('custos-web', 'custos-web-secret', { grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: verifier, resource });
    },
    async rotate(keys) {
      const response = await fetch(`${issuer}/__test/keys`, { method: 'POST', body: JSON.stringify({ keys: keys.map((k) => k.privateJwk) }) });
      if (!response.ok) throw new Error(`rotate: ${response.status} ${await response.text()}`);
    },
    async jwksRequests() {
      return ((await (await fetch(`${issuer}/__test/stats`)).json()) as { jwksRequests: number }).jwksRequests;
    },
    output: () => output,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
