import { createLocalJWKSet, createRemoteJWKSet, decodeJwt, exportJWK, generateKeyPair, JWK, jwtVerify, JWTVerifyGetKey, KeyLike, SignJWT } from 'jose';
import type { Principal } from './principal';

/** Verifies bearer tokens and turns their claims into a Principal. */
export interface TokenVerifier {
  verify(token: string): Promise<Principal>;
}

/**
 * The caller a verified token names. Claims are read as own properties only: a claim the token
 * does not carry must never be found on Object.prototype (had anything polluted it, a token
 * without `roles` would have inherited whatever roles were put there).
 */
function principalFrom(payload: Record<string, unknown>): Principal {
  const claim = (name: string): unknown => (Object.hasOwn(payload, name) ? payload[name] : undefined);
  const sub = typeof claim('sub') === 'string' ? (claim('sub') as string) : undefined;
  const email = typeof claim('email') === 'string' ? (claim('email') as string) : undefined;
  if (!sub && !email) throw new Error('token has neither sub nor email');
  const list = (value: unknown) =>
    Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : typeof value === 'string' ? value.split(' ').filter(Boolean) : [];
  const issuer = typeof claim('iss') === 'string' ? (claim('iss') as string) : '';
  return { sub: sub ?? `email:${email}`, email, roles: list(claim('roles')), amr: list(claim('amr')), issuer };
}

/** Validates tokens of an OIDC issuer through the JWKS its discovery document names. */
export class OidcTokenVerifier implements TokenVerifier {
  private jwks?: Promise<JWTVerifyGetKey>;

  constructor(
    private readonly issuer: string,
    private readonly audience?: string,
  ) {}

  private keys(): Promise<JWTVerifyGetKey> {
    this.jwks ??= (async () => {
      const discovery = `${this.issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
      const response = await fetch(discovery);
      if (!response.ok) throw new Error(`OIDC discovery failed: ${discovery} answered ${response.status}`);
      const { jwks_uri } = (await response.json()) as { jwks_uri?: string };
      if (!jwks_uri) throw new Error(`OIDC discovery at ${discovery} names no jwks_uri`);
      return createRemoteJWKSet(new URL(jwks_uri));
    })().catch((error) => {
      // A failed discovery must not stick: the issuer may simply not be up yet.
      this.jwks = undefined;
      throw error;
    });
    return this.jwks;
  }

  async verify(token: string): Promise<Principal> {
    const { payload } = await jwtVerify(token, await this.keys(), { issuer: this.issuer, audience: this.audience });
    return principalFrom(payload);
  }
}

/**
 * The development issuer of embedded mode (`CUSTOS_DEV_AUTH=true`): a key pair made at start,
 * tokens signed with it and verified exactly like OIDC tokens, minus the network.
 */
export class DevTokenIssuer implements TokenVerifier {
  static readonly ISSUER = 'urn:custos:dev-issuer';

  private constructor(
    private readonly privateKey: KeyLike,
    private readonly jwks: JWTVerifyGetKey,
    readonly publicJwk: JWK,
  ) {}

  static async create(): Promise<DevTokenIssuer> {
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    const publicJwk = { ...(await exportJWK(publicKey)), kid: 'custos-dev', alg: 'ES256', use: 'sig' };
    return new DevTokenIssuer(privateKey, createLocalJWKSet({ keys: [publicJwk] }), publicJwk);
  }

  async issue(claims: { sub: string; roles?: string[]; amr?: string[]; email?: string }, ttlSeconds = 3600): Promise<string> {
    return new SignJWT({ roles: claims.roles ?? [], amr: claims.amr ?? ['pwd'], ...(claims.email ? { email: claims.email } : {}) })
      .setProtectedHeader({ alg: 'ES256', kid: 'custos-dev' })
      .setSubject(claims.sub)
      .setIssuer(DevTokenIssuer.ISSUER)
      .setIssuedAt()
      .setExpirationTime(`${ttlSeconds}s`)
      .sign(this.privateKey);
  }

  async verify(token: string): Promise<Principal> {
    const { payload } = await jwtVerify(token, this.jwks, { issuer: DevTokenIssuer.ISSUER });
    return principalFrom(payload);
  }
}

/**
 * Remembers tokens it has verified, until they expire and for at most `maxAgeMs` (default 60 s):
 * a client that sends the same bearer token with every request (an HR system, a CLI import)
 * pays for the signature check once a minute instead of on every request. Only successful
 * verifications are kept, and never past the token's `exp`.
 */
export class CachingTokenVerifier implements TokenVerifier {
  private readonly cache = new Map<string, { principal: Principal; until: number }>();
  private readonly maxEntries: number;
  private readonly maxAgeMs: number;
  private readonly now: () => number;

  constructor(
    private readonly inner: TokenVerifier,
    options: { maxEntries?: number; maxAgeMs?: number; now?: () => number } = {},
  ) {
    this.maxEntries = options.maxEntries ?? 10_000;
    this.maxAgeMs = options.maxAgeMs ?? 60_000;
    this.now = options.now ?? Date.now;
  }

  async verify(token: string): Promise<Principal> {
    const now = this.now();
    const hit = this.cache.get(token);
    if (hit && hit.until > now) return copy(hit.principal);
    if (hit) this.cache.delete(token);
    const principal = await this.inner.verify(token);
    const exp = decodeJwt(token).exp;
    const until = Math.min(now + this.maxAgeMs, typeof exp === 'number' ? exp * 1000 : now);
    if (until > now) {
      // Oldest first: a Map iterates in insertion order.
      if (this.cache.size >= this.maxEntries) this.cache.delete(this.cache.keys().next().value as string);
      this.cache.set(token, { principal: copy(principal), until });
    }
    return principal;
  }
}

function copy(principal: Principal): Principal {
  return { ...principal, roles: [...principal.roles], amr: [...principal.amr] };
}
