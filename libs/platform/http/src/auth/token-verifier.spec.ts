import { startOidcIssuer, TestIssuer } from '@custos/platform/testing';
import { KeyLike, SignJWT, generateKeyPair } from 'jose';
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
    expect(principal).toEqual({ sub: 'u1', email: undefined, roles: ['custos:admin'], amr: ['pwd', 'mfa'], issuer: issuer.issuer });
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
});
