import { randomUUID } from 'node:crypto';
import { link, readFile, unlink, writeFile } from 'node:fs/promises';
import { createLocalJWKSet, createRemoteJWKSet, decodeJwt, exportJWK, generateKeyPair, importJWK, JWK, jwtVerify, JWTVerifyGetKey, KeyLike, SignJWT } from 'jose';
import type { Principal } from './principal';

/** Verifies bearer tokens and turns their claims into a Principal. */
export interface TokenVerifier {
  verify(token: string): Promise<Principal>;
}

/** Which claims name the caller and their roles: providers differ (Keycloak puts roles under `realm_access.roles`). */
export interface ClaimNames {
  /** The claim naming the caller (default `sub`); the email claim is the fallback when it is absent. */
  subject: string;
  /** CUSTOS_OIDC_EMAIL_CLAIM: the claim holding the caller's address (default `email`), a dotted path or a dotted name as `subject`. */
  email?: string;
  /** The claim holding the roles, a dotted path for a nested one (default `roles`). */
  roles: string;
  /**
   * CUSTOS_OIDC_ROLE_MAP: a provider's role or group names for Custos's roles (`Custos.Admin` ->
   * `custos:admin`), for providers whose names cannot or should not be Custos's own. Names not in
   * it are kept as they are.
   */
  roleMap?: Readonly<Record<string, string>>;
}

export const DEFAULT_CLAIMS: ClaimNames = { subject: 'sub', roles: 'roles' };

/**
 * A claim by dotted path, through own properties only. A claim whose own name has the dots
 * (Entra ID's `extn.custosId`) is found first.
 */
function claimAt(payload: Record<string, unknown>, path: string): unknown {
  if (path.includes('.') && Object.hasOwn(payload, path)) return payload[path];
  let value: unknown = payload;
  for (const part of path.split('.')) {
    if (typeof value !== 'object' || value === null || Array.isArray(value) || !Object.hasOwn(value, part)) return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

/**
 * The caller a verified token names. Claims are read as own properties only: a claim the token
 * does not carry must never be found on Object.prototype (had anything polluted it, a token
 * without `roles` would have inherited whatever roles were put there).
 */
function principalFrom(payload: Record<string, unknown>, claims: ClaimNames = DEFAULT_CLAIMS): Principal {
  const text = (path: string): string | undefined => {
    const value = claimAt(payload, path);
    return typeof value === 'string' && value !== '' ? value : undefined;
  };
  const sub = text(claims.subject);
  const email = text(claims.email ?? 'email');
  const emailVerified = claimAt(payload, 'email_verified');
  if (!sub && !email) throw new Error(`token has neither ${claims.subject} nor email`);
  const list = (value: unknown) =>
    Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : typeof value === 'string' ? value.split(' ').filter(Boolean) : [];
  const authTime = claimAt(payload, 'auth_time');
  const map = claims.roleMap;
  const roles = list(claimAt(payload, claims.roles)).map((role) => (map && Object.hasOwn(map, role) ? map[role] : role));
  const acrs = claimAt(payload, 'acrs');
  return {
    sub: sub ?? `email:${email}`,
    email,
    ...(typeof emailVerified === 'boolean' ? { emailVerified } : {}),
    roles: [...new Set(roles)],
    amr: list(claimAt(payload, 'amr')),
    issuer: text('iss') ?? '',
    ...(text('acr') ? { acr: text('acr') } : {}),
    ...(Array.isArray(acrs) ? { acrs: list(acrs) } : {}),
    ...(typeof authTime === 'number' && Number.isFinite(authTime) ? { authTime } : {}),
  };
}

/** Signature algorithms a token may use: asymmetric only (never `none`, never an HMAC that a public key would verify). */
export const ACCEPTED_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'];

export interface OidcOptions {
  /** The `aud` a token must carry (CUSTOS_OIDC_AUDIENCE); any when unset. */
  audience?: string;
  claims?: ClaimNames;
  /** Leeway on `exp` and `nbf`, in seconds (CUSTOS_OIDC_CLOCK_SKEW, default 30). */
  clockToleranceSec?: number;
  /** Default ACCEPTED_ALGORITHMS. */
  algorithms?: string[];
  /** The least time between two JWKS fetches for an unknown key id (default 30 s). */
  jwksCooldownMs?: number;
}

/**
 * Validates tokens of an OIDC issuer through the JWKS its discovery document names. A token
 * signed with a key the cached JWKS lacks makes jose fetch the JWKS again, at most once per
 * `jwksCooldownMs` (30 s), so a provider's key rotation needs no restart.
 */
export class OidcTokenVerifier implements TokenVerifier {
  private jwks?: Promise<JWTVerifyGetKey>;
  private readonly options: Required<Omit<OidcOptions, 'audience'>> & { audience?: string };

  constructor(
    private readonly issuer: string,
    options: OidcOptions | string = {},
  ) {
    const given = typeof options === 'string' ? { audience: options } : options;
    this.options = { claims: DEFAULT_CLAIMS, clockToleranceSec: 30, algorithms: ACCEPTED_ALGORITHMS, jwksCooldownMs: 30_000, ...given };
  }

  private keys(): Promise<JWTVerifyGetKey> {
    this.jwks ??= (async () => {
      const discovery = `${this.issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
      const response = await fetch(discovery);
      if (!response.ok) throw new Error(`OIDC discovery failed: ${discovery} answered ${response.status}`);
      const { jwks_uri } = (await response.json()) as { jwks_uri?: string };
      if (!jwks_uri) throw new Error(`OIDC discovery at ${discovery} names no jwks_uri`);
      return createRemoteJWKSet(new URL(jwks_uri), { cooldownDuration: this.options.jwksCooldownMs });
    })().catch((error) => {
      // A failed discovery must not stick: the issuer may simply not be up yet.
      this.jwks = undefined;
      throw error;
    });
    return this.jwks;
  }

  async verify(token: string): Promise<Principal> {
    const { payload } = await jwtVerify(token, await this.keys(), {
      issuer: this.issuer,
      audience: this.options.audience,
      algorithms: this.options.algorithms,
      clockTolerance: this.options.clockToleranceSec,
    });
    return principalFrom(payload, this.options.claims);
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

  /**
   * A development issuer. With `keyFile` (CUSTOS_DEV_AUTH_KEY_FILE) its signing key is read from
   * that file, or made and written there (mode 600) by whichever process comes first, so that
   * several services on one machine trust each other's development tokens; without one, a key
   * made for this process only.
   */
  static async create(options: { keyFile?: string } = {}): Promise<DevTokenIssuer> {
    const privateJwk = options.keyFile ? await sharedDevKey(options.keyFile) : await exportJWK((await generateKeyPair('ES256', { extractable: true })).privateKey);
    const privateKey = (await importJWK({ ...privateJwk, alg: 'ES256' }, 'ES256')) as KeyLike;
    const { d: _secret, ...publicPart } = privateJwk;
    const publicJwk = { ...publicPart, kid: 'custos-dev', alg: 'ES256', use: 'sig' };
    return new DevTokenIssuer(privateKey, createLocalJWKSet({ keys: [publicJwk] }), publicJwk);
  }

  async issue(claims: { sub: string; roles?: string[]; amr?: string[]; email?: string }, ttlSeconds = 3600): Promise<string> {
    return new SignJWT({ roles: claims.roles ?? [], amr: claims.amr ?? ['pwd'], auth_time: Math.floor(Date.now() / 1000), ...(claims.email ? { email: claims.email } : {}) })
      .setProtectedHeader({ alg: 'ES256', kid: 'custos-dev' })
      .setSubject(claims.sub)
      .setIssuer(DevTokenIssuer.ISSUER)
      .setIssuedAt()
      .setExpirationTime(`${ttlSeconds}s`)
      .sign(this.privateKey);
  }

  async verify(token: string): Promise<Principal> {
    const { payload } = await jwtVerify(token, this.jwks, { issuer: DevTokenIssuer.ISSUER, algorithms: ['ES256'] });
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
  return { ...principal, roles: [...principal.roles], amr: [...principal.amr], ...(principal.acrs ? { acrs: [...principal.acrs] } : {}) };
}

/** The development signing key kept in `file`: read when it exists, else made and written there (first writer wins). */
async function sharedDevKey(file: string): Promise<JWK> {
  const read = async (): Promise<JWK | undefined> => {
    try {
      const jwk = JSON.parse(await readFile(file, 'utf8')) as JWK;
      if (jwk.kty !== 'EC' || jwk.crv !== 'P-256' || typeof jwk.d !== 'string') throw new Error(`${file} holds no P-256 private key (JWK)`);
      return jwk;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  };
  const existing = await read();
  if (existing) return existing;
  const made = await exportJWK((await generateKeyPair('ES256', { extractable: true })).privateKey);
  // Written whole under a name of its own, then linked into place: a reader never sees half a key,
  // and link fails when another service got there first.
  const draft = `${file}.${process.pid}.${randomUUID()}`;
  await writeFile(draft, JSON.stringify(made), { flag: 'wx', mode: 0o600 });
  try {
    await link(draft, file);
    return made;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return (await read())!;
    throw error;
  } finally {
    await unlink(draft).catch(() => undefined);
  }
}
