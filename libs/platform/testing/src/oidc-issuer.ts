import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, KeyLike, SignJWT } from 'jose';

export interface TestIssuer {
  issuer: string;
  /** Signs a token as this issuer would after a login. */
  token(claims: { sub: string; roles?: string[]; amr?: string[]; email?: string }, audience?: string): Promise<string>;
  stop(): Promise<void>;
}

/**
 * A real OIDC issuer for tests: discovery document and JWKS over HTTP on a free port, RS256
 * tokens. Services verify its tokens exactly as they would verify a production IdP's.
 */
export async function startOidcIssuer(): Promise<TestIssuer> {
  const { privateKey, publicKey } = await generateKeyPair('RS256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'test-key', alg: 'RS256', use: 'sig' };
  let issuer = '';
  const server: Server = createServer((req, res) => {
    if (req.url === '/.well-known/openid-configuration') {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ issuer, jwks_uri: `${issuer}/jwks`, id_token_signing_alg_values_supported: ['RS256'] }));
    } else if (req.url === '/jwks') {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ keys: [jwk] }));
    } else {
      res.statusCode = 404;
      res.end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const key: KeyLike = privateKey;
  return {
    issuer,
    token: (claims, audience) => {
      const jwt = new SignJWT({ roles: claims.roles ?? [], amr: claims.amr ?? ['pwd'], ...(claims.email ? { email: claims.email } : {}) })
        .setProtectedHeader({ alg: 'RS256', kid: 'test-key' })
        .setSubject(claims.sub)
        .setIssuer(issuer)
        .setIssuedAt()
        .setExpirationTime('1h');
      if (audience) jwt.setAudience(audience);
      return jwt.sign(key);
    },
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
