import { startOidcIssuer, TestIssuer } from '@custos/platform/testing';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KeyLike, SignJWT, generateKeyPair } from 'jose';
import { readAuthSettings } from './auth-settings';
import { freshMfa, type Principal } from './principal';
import { DevTokenIssuer, OidcTokenVerifier } from './token-verifier';

describe('token verifiers', () => {
  let issuer: TestIssuer;

  beforeAll(async () => {
    issuer = await startOidcIssuer();
  });

  afterAll(() => issuer.stop());

  it('accepts a token of the configured OIDC issuer, found through discovery and its JWKS', async () => {
    const verifier = new OidcTokenVerifier(issuer.issuer, 'custos');
    const principal = await verifier.verify(await issuer.token({ sub: 'u1', roles: ['custos:admin'], amr: ['pwd', 'mfa'] }, 'custos'));
    expect(principal).toEqual({ sub: 'u1', email: undefined, roles: ['custos:admin'], amr: ['pwd', 'mfa'], issuer: issuer.issuer, authTime: expect.any(Number) });
  });

  it.each([
    ['a token for another audience', async () => issuer.token({ sub: 'u1' }, 'someone-else')],
    ['a token signed by another key', async () => {
      const { privateKey } = await generateKeyPair('RS256');
      return new SignJWT({}).setProtectedHeader({ alg: 'RS256', kid: 'test-key' }).setSubject('u1').setIssuer(issuer.issuer).setAudience('custos').setExpirationTime('1h').sign(privateKey);
    }],
    ['an expired token', async () => {
      const dev = await DevTokenIssuer.create();
      return dev.issue({ sub: 'u1' }, -10);
    }],
  ])('refuses %s', async (_, token) => {
    await expect(new OidcTokenVerifier(issuer.issuer, 'custos').verify(await token())).rejects.toThrow();
  });

  it('maps an email-only token to an email principal', async () => {
    const dev = await DevTokenIssuer.create();
    const token = await new SignJWT({ email: 'ada@example.com', roles: 'custos:hr custos:auditor' }).setProtectedHeader({ alg: 'ES256', kid: 'custos-dev' }).setIssuer(DevTokenIssuer.ISSUER).setExpirationTime('1h').sign((dev as unknown as { privateKey: KeyLike }).privateKey);
    expect(await dev.verify(token)).toEqual({ sub: 'email:ada@example.com', email: 'ada@example.com', roles: ['custos:hr', 'custos:auditor'], amr: [], issuer: DevTokenIssuer.ISSUER });
  });

  it('reads claims as own properties: a token without roles gets none, even with Object.prototype polluted', async () => {
    const dev = await DevTokenIssuer.create();
    const token = await new SignJWT({}).setProtectedHeader({ alg: 'ES256', kid: 'custos-dev' }).setSubject('u9').setIssuer(DevTokenIssuer.ISSUER).setExpirationTime('1h').sign((dev as unknown as { privateKey: KeyLike }).privateKey);
    const prototype = Object.prototype as unknown as Record<string, unknown>;
    prototype.roles = ['custos:admin'];
    prototype.amr = ['mfa'];
    try {
      expect(await dev.verify(token)).toMatchObject({ sub: 'u9', roles: [], amr: [] });
    } finally {
      delete prototype.roles;
      delete prototype.amr;
    }
  });

  it('refuses a development token where only the OIDC issuer is trusted, and vice versa', async () => {
    const dev = await DevTokenIssuer.create();
    await expect(new OidcTokenVerifier(issuer.issuer).verify(await dev.issue({ sub: 'u1' }))).rejects.toThrow();
    await expect(dev.verify(await issuer.token({ sub: 'u1' }))).rejects.toThrow();
  });

  it('answers every verification with an error while the issuer is unreachable (a failed discovery is not cached)', async () => {
    const late = await startOidcIssuer();
    const url = late.issuer;
    const token = await late.token({ sub: 'u2' });
    await late.stop();
    const verifier = new OidcTokenVerifier(url);
    await expect(verifier.verify(token)).rejects.toThrow();
    await expect(verifier.verify(token)).rejects.toThrow(/fetch failed|ECONNREFUSED|discovery/);
  });

  it('maps the subject and roles from the claims a provider uses (Keycloak: realm_access.roles), through own properties', async () => {
    const verifier = new OidcTokenVerifier(issuer.issuer, { audience: 'custos', claims: { subject: 'preferred_username', roles: 'realm_access.roles' } });
    const keycloakShaped = await issuer.token({ sub: 'f81d4fae', roles: ['not-these'], extra: { preferred_username: 'ada', realm_access: { roles: ['custos:admin', 7] } } }, 'custos');
    expect(await verifier.verify(keycloakShaped)).toMatchObject({ sub: 'ada', roles: ['custos:admin'] });
    const withoutThem = await issuer.token({ sub: 'f81d4fae', extra: { realm_access: 'custos:admin' } }, 'custos');
    await expect(verifier.verify(withoutThem)).rejects.toThrow(/neither preferred_username nor email/);
    expect(await new OidcTokenVerifier(issuer.issuer, { audience: 'custos', claims: { subject: 'sub', roles: 'realm_access.roles' } }).verify(withoutThem)).toMatchObject({ sub: 'f81d4fae', roles: [] });
  });

  it('reads the address from the configured email claim (a dotted name or path), and email_verified when the token says', async () => {
    const verifier = new OidcTokenVerifier(issuer.issuer, { audience: 'custos', claims: { subject: 'sub', roles: 'roles', email: 'extn.workEmail' } });
    const token = await issuer.token({ sub: 'f81d4fae', extra: { email: 'private@example.org', 'extn.workEmail': 'Ada@Example.com', email_verified: false } }, 'custos');
    expect(await verifier.verify(token)).toMatchObject({ sub: 'f81d4fae', email: 'Ada@Example.com', emailVerified: false });
    const unsaid = await issuer.token({ sub: 'f81d4fae', extra: { email: 'ada@example.com', email_verified: 'yes' } }, 'custos');
    expect(await new OidcTokenVerifier(issuer.issuer, 'custos').verify(unsaid)).not.toHaveProperty('emailVerified');
  });

  it.each([
    ['alg none', () => `${Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url')}.${Buffer.from(JSON.stringify({ sub: 'u1', iss: issuer.issuer, aud: 'custos', exp: Math.floor(Date.now() / 1000) + 600 })).toString('base64url')}.`],
    ['an HMAC signature (HS256), whatever its key', async () => new SignJWT({}).setProtectedHeader({ alg: 'HS256', kid: 'test-key' }).setSubject('u1').setIssuer(issuer.issuer).setAudience('custos').setExpirationTime('1h').sign(new TextEncoder().encode('x'.repeat(32)))],
  ])('refuses %s', async (_, token) => {
    await expect(new OidcTokenVerifier(issuer.issuer, 'custos').verify(await token())).rejects.toThrow();
  });

  it('accepts a token expired within the clock skew, and refuses one past it', async () => {
    const expiredAMinuteAgo = await issuer.token({ sub: 'u1', expiresInSec: -60 }, 'custos');
    await expect(new OidcTokenVerifier(issuer.issuer, { audience: 'custos', clockToleranceSec: 30 }).verify(expiredAMinuteAgo)).rejects.toThrow(/exp/);
    expect(await new OidcTokenVerifier(issuer.issuer, { audience: 'custos', clockToleranceSec: 120 }).verify(expiredAMinuteAgo)).toMatchObject({ sub: 'u1' });
  });

  it('follows a key rotation of the provider without a restart (an unknown key id fetches the JWKS again)', async () => {
    const rotating = await startOidcIssuer();
    try {
      const verifier = new OidcTokenVerifier(rotating.issuer, { audience: 'custos', jwksCooldownMs: 0 });
      expect(await verifier.verify(await rotating.token({ sub: 'before' }, 'custos'))).toMatchObject({ sub: 'before' });
      const old = await rotating.token({ sub: 'old-key' }, 'custos');
      await rotating.rotateKey();
      expect(await verifier.verify(await rotating.token({ sub: 'after' }, 'custos'))).toMatchObject({ sub: 'after' });
      // The old key is gone from the JWKS: a token it signed no longer verifies once the cache has moved on.
      await expect(verifier.verify(old)).rejects.toThrow();
    } finally {
      await rotating.stop();
    }
  });
});

describe('the development issuer across services (CUSTOS_DEV_AUTH_KEY_FILE)', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'custos-dev-key-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('shares one signing key: a token of one service verifies at the others, the file readable by its owner only', async () => {
    const file = join(dir, 'dev-key.json');
    const [a, b, c] = await Promise.all([DevTokenIssuer.create({ keyFile: file }), DevTokenIssuer.create({ keyFile: file }), DevTokenIssuer.create({ keyFile: file })]);
    const token = await a.issue({ sub: 'ada', roles: ['custos:admin'] });
    expect(await b.verify(token)).toMatchObject({ sub: 'ada', roles: ['custos:admin'] });
    expect(await c.verify(await b.issue({ sub: 'bob' }))).toMatchObject({ sub: 'bob' });
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const stranger = await DevTokenIssuer.create();
    await expect(stranger.verify(token)).rejects.toThrow();
  });

  it('refuses a key file that holds no P-256 private key', async () => {
    const file = join(dir, 'bad.json');
    await import('node:fs/promises').then((fs) => fs.writeFile(file, JSON.stringify({ kty: 'oct', k: 'x' })));
    await expect(DevTokenIssuer.create({ keyFile: file })).rejects.toThrow(/no P-256 private key/);
  });
});

describe('step-up freshness (freshMfa)', () => {
  const now = Date.parse('2026-12-05T12:00:00Z');
  const caller = (amr: string[], authTime?: number): Principal => ({ sub: 'ada', roles: [], amr, issuer: 'x', ...(authTime === undefined ? {} : { authTime }) });

  it.each([
    ['a login 10 minutes ago keeps mfa', caller(['pwd', 'mfa'], now / 1000 - 600), ['pwd', 'mfa']],
    ['a login 16 minutes ago loses it', caller(['pwd', 'mfa'], now / 1000 - 960), ['pwd']],
    ['a token without auth_time proves no recent login', caller(['mfa']), []],
    ['a token without mfa is left as it is', caller(['pwd'], now / 1000 - 9999), ['pwd']],
  ])('%s', (_what, principal, amr) => {
    expect(freshMfa(principal, 900, now).amr).toEqual(amr);
  });
});

describe('readAuthSettings', () => {
  it('reads claim paths, skew, the dev key file and the step-up window, with defaults', () => {
    expect(readAuthSettings({})).toEqual({ claims: { subject: 'sub', roles: 'roles', email: 'email' }, identityFrom: 'sub', emailCacheTtlSec: 60, clockToleranceSec: 30, jwksCooldownSec: 30, devKeyFile: undefined, stepUp: { maxAgeSec: 900, amrValues: ['mfa'], acrValues: [] }, failedAuthLimit: { limit: 20, windowSec: 60 } });
    expect(
      readAuthSettings({ CUSTOS_OIDC_ROLES_CLAIM: 'realm_access.roles', CUSTOS_OIDC_SUBJECT_CLAIM: 'email', CUSTOS_OIDC_CLOCK_SKEW: '5', CUSTOS_OIDC_JWKS_COOLDOWN: '2', CUSTOS_DEV_AUTH_KEY_FILE: '/run/custos/dev.json', CUSTOS_STEP_UP_MAX_AGE: '300' }),
    ).toEqual({ claims: { subject: 'email', roles: 'realm_access.roles', email: 'email' }, identityFrom: 'sub', emailCacheTtlSec: 60, clockToleranceSec: 5, jwksCooldownSec: 2, devKeyFile: '/run/custos/dev.json', stepUp: { maxAgeSec: 300, amrValues: ['mfa'], acrValues: [] }, failedAuthLimit: { limit: 20, windowSec: 60 } });
  });

  it('reads where identities come from: the email claim, its name and the cache lifetime', () => {
    expect(readAuthSettings({ CUSTOS_OIDC_IDENTITY_FROM: 'email', CUSTOS_OIDC_EMAIL_CLAIM: 'extn.workEmail', CUSTOS_OIDC_EMAIL_CACHE_TTL: '30' })).toMatchObject({
      claims: { subject: 'sub', email: 'extn.workEmail' },
      identityFrom: 'email',
      emailCacheTtlSec: 30,
    });
    expect(readAuthSettings({ CUSTOS_OIDC_IDENTITY_FROM: ' sub ' }).identityFrom).toBe('sub');
  });

  it.each([
    ['CUSTOS_OIDC_ROLES_CLAIM', '__proto__.roles'],
    ['CUSTOS_OIDC_ROLES_CLAIM', 'realm access'],
    ['CUSTOS_OIDC_CLOCK_SKEW', '-1'],
    ['CUSTOS_OIDC_CLOCK_SKEW', '3600'],
    ['CUSTOS_STEP_UP_MAX_AGE', 'soon'],
    ['CUSTOS_OIDC_JWKS_COOLDOWN', '7200'],
    ['CUSTOS_OIDC_IDENTITY_FROM', 'upn'],
    ['CUSTOS_OIDC_IDENTITY_FROM', 'EMAIL'],
    ['CUSTOS_OIDC_EMAIL_CLAIM', 'constructor'],
    ['CUSTOS_OIDC_EMAIL_CLAIM', 'e mail'],
    ['CUSTOS_OIDC_EMAIL_CACHE_TTL', '3600'],
    ['CUSTOS_OIDC_EMAIL_CACHE_TTL', '1.5'],
  ])('refuses %s=%s at start', (name, value) => {
    expect(() => readAuthSettings({ [name]: value })).toThrow(new RegExp(name));
  });
});
