import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, KeyLike, SignJWT } from 'jose';

export interface TestIssuer {
  issuer: string;
  /** Signs a token as this issuer would after a login. */
  token(
    claims: { sub: string; roles?: string[]; amr?: string[]; email?: string; authTime?: number; expiresInSec?: number; extra?: Record<string, unknown> },
    audience?: string,
  ): Promise<string>;
  /** Replaces the signing key (a new key id); the JWKS then lists only the new key, as after a provider's rotation. */
  rotateKey(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A real OIDC issuer for tests: discovery document and JWKS over HTTP on a free port, RS256
 * tokens. Services verify its tokens exactly as they would verify a production IdP's.
 */
export async function startOidcIssuer(): Promise<TestIssuer> {
  const makeKey = async (kid: string) => {
    const { privateKey, publicKey } = await generateKeyPair('RS256');
    return { kid, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' } };
  };
  let current = await makeKey('test-key');
  let rotations = 0;
  let issuer = '';
  const server: Server = createServer((req, res) => {
    if (req.url === '/.well-known/openid-configuration') {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ issuer, jwks_uri: `${issuer}/jwks`, id_token_signing_alg_values_supported: ['RS256'] }));
    } else if (req.url === '/jwks') {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ keys: [current.jwk] }));
    } else {
      res.statusCode = 404;
      res.end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    issuer,
    token: (claims, audience) => {
      const jwt = new SignJWT({ roles: claims.roles ?? [], amr: claims.amr ?? ['pwd'], auth_time: claims.authTime ?? Math.floor(Date.now() / 1000), ...(claims.email ? { email: claims.email } : {}), ...claims.extra })
        .setProtectedHeader({ alg: 'RS256', kid: current.kid })
        .setSubject(claims.sub)
        .setIssuer(issuer)
        .setIssuedAt()
        .setExpirationTime(Math.floor(Date.now() / 1000) + (claims.expiresInSec ?? 3600));
      if (audience) jwt.setAudience(audience);
      return jwt.sign(current.privateKey as KeyLike);
    },
    rotateKey: async () => {
      current = await makeKey(`test-key-${++rotations}`);
    },
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
