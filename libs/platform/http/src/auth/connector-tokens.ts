import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { SqlDatabase } from '@custos/platform/event-store';
import { migrateContext } from '@custos/platform/runtime';
import type { Principal } from './principal';
import type { TokenVerifier } from './token-verifier';

/** The issuer of connector tokens, as a Principal names it. */
export const CONNECTOR_ISSUER = 'urn:custos:connector';
/** The roles a connector token may carry: HR systems and identity providers' SCIM connectors. */
export const CONNECTOR_ROLES: readonly string[] = ['custos:hr'];

const PREFIX = 'cst_';
const TOKEN = /^cst_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;
/** How long a verified token is remembered by this process: a revocation made elsewhere takes at most this long. */
const REMEMBER_MS = 5_000;

/** A connector token as listed: never its secret. */
export interface ConnectorTokenInfo {
  id: string;
  name: string;
  roles: string[];
  createdBy: string;
  createdAt: string;
  expiresAt: string | null;
  revokedAt: string | null;
  revokedBy: string | null;
  lastUsedAt: string | null;
}

interface Row {
  id: string;
  name: string;
  roles: string[];
  secret_sha256: Buffer;
  created_by: string;
  created_at: Date;
  expires_at: Date | null;
  revoked_at: Date | null;
  revoked_by: string | null;
  last_used_at: Date | null;
}

const sha256 = (text: string): Buffer => createHash('sha256').update(text).digest();
const iso = (date: Date | null): string | null => (date === null ? null : new Date(date).toISOString());

/**
 * ConnectorTokens: long-lived bearer tokens for machine connectors (an HR system, an identity
 * provider's SCIM client) that cannot log in through OIDC. An admin creates one; its value
 * (`cst_<id>_<secret>`, 256 random bits) is shown once and kept only as a SHA-256 of the secret
 * (a slow hash buys nothing for 256 random bits), compared in constant time. Each token is scoped
 * to CONNECTOR_ROLES, may expire, and can be revoked. The caller it names is `connector:<id>`, so
 * every event written with it records the token's id as its actor, never its value.
 */
export class ConnectorTokens implements TokenVerifier {
  private readonly remembered = new Map<string, { principal: Principal; until: number; secret: Buffer }>();
  private ready?: Promise<void>;

  constructor(
    private readonly db: SqlDatabase,
    private readonly now: () => Date = () => new Date(),
  ) {}

  migrate(): Promise<void> {
    this.ready ??= migrateContext(this.db, 'http', [
      async (tx) => {
        await tx.query(`CREATE TABLE IF NOT EXISTS http.connector_tokens (
          id text PRIMARY KEY, name text NOT NULL, roles text[] NOT NULL, secret_sha256 bytea NOT NULL,
          created_by text NOT NULL, created_at timestamptz NOT NULL, expires_at timestamptz,
          revoked_at timestamptz, revoked_by text, last_used_at timestamptz)`);
      },
    ]).catch((error: unknown) => {
      this.ready = undefined;
      throw error;
    });
    return this.ready;
  }

  /** Whether a bearer token is a connector token (and not a JWT). */
  static isConnectorToken(token: string): boolean {
    return token.startsWith(PREFIX);
  }

  /** Makes a token; its value is in the answer and nowhere else. */
  async create(input: { name: string; roles: string[]; expiresAt: Date | null }, createdBy: string): Promise<ConnectorTokenInfo & { token: string }> {
    await this.migrate();
    const outside = input.roles.filter((role) => !CONNECTOR_ROLES.includes(role));
    if (outside.length > 0) throw new RangeError(`a connector token may carry only ${CONNECTOR_ROLES.join(', ')}: not ${outside.join(', ')}`);
    const id = randomBytes(8).toString('hex');
    const secret = randomBytes(32).toString('base64url');
    const createdAt = this.now();
    const roles = [...new Set(input.roles)];
    await this.db.query(
      `INSERT INTO http.connector_tokens (id, name, roles, secret_sha256, created_by, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [id, input.name, roles, sha256(secret), createdBy, createdAt, input.expiresAt],
    );
    return {
      id,
      name: input.name,
      roles,
      createdBy,
      createdAt: createdAt.toISOString(),
      expiresAt: iso(input.expiresAt),
      revokedAt: null,
      revokedBy: null,
      lastUsedAt: null,
      token: `${PREFIX}${id}_${secret}`,
    };
  }

  async list(): Promise<ConnectorTokenInfo[]> {
    await this.migrate();
    const { rows } = await this.db.query<Row>(`SELECT * FROM http.connector_tokens ORDER BY created_at, id`);
    return rows.map((row) => this.info(row));
  }

  /** Revokes a token at once (in this process; others stop accepting it within REMEMBER_MS); false for an unknown id. */
  async revoke(id: string, revokedBy: string): Promise<ConnectorTokenInfo | undefined> {
    await this.migrate();
    const { rows } = await this.db.query<Row>(
      `UPDATE http.connector_tokens SET revoked_at = COALESCE(revoked_at, $2), revoked_by = COALESCE(revoked_by, $3) WHERE id = $1 RETURNING *`,
      [id, this.now(), revokedBy],
    );
    this.remembered.delete(id);
    return rows[0] && this.info(rows[0]);
  }

  /** The caller a connector token names; throws for a malformed, unknown, revoked or expired one. */
  async verify(token: string): Promise<Principal> {
    const match = TOKEN.exec(token);
    if (!match) throw new Error('malformed connector token');
    const [, id, secret] = match;
    const nowMs = this.now().getTime();
    const hit = this.remembered.get(id);
    if (hit && hit.until > nowMs && timingSafeEqual(hit.secret, sha256(secret))) return { ...hit.principal, roles: [...hit.principal.roles], amr: [] };
    await this.migrate();
    const { rows } = await this.db.query<Row>(`SELECT * FROM http.connector_tokens WHERE id = $1`, [id]);
    const row = rows[0];
    // The same work whether or not the id exists: compare against a hash all the same.
    const stored = row ? Buffer.from(row.secret_sha256) : sha256(`no such token ${id}`);
    if (!timingSafeEqual(stored, sha256(secret)) || !row) throw new Error('unknown connector token');
    if (row.revoked_at !== null) throw new Error(`connector token ${id} was revoked`);
    if (row.expires_at !== null && new Date(row.expires_at).getTime() <= nowMs) throw new Error(`connector token ${id} has expired`);
    const principal: Principal = { sub: `connector:${id}`, roles: [...row.roles], amr: [], issuer: CONNECTOR_ISSUER };
    const until = Math.min(nowMs + REMEMBER_MS, row.expires_at === null ? Infinity : new Date(row.expires_at).getTime());
    this.remembered.set(id, { principal, until, secret: stored });
    // When it was last used, at most once per remembered period (not a write per request).
    void this.db.query(`UPDATE http.connector_tokens SET last_used_at = $2 WHERE id = $1`, [id, new Date(nowMs)]).catch(() => undefined);
    return { ...principal, roles: [...principal.roles] };
  }

  private info(row: Row): ConnectorTokenInfo {
    return {
      id: row.id,
      name: row.name,
      roles: [...row.roles],
      createdBy: row.created_by,
      createdAt: new Date(row.created_at).toISOString(),
      expiresAt: iso(row.expires_at),
      revokedAt: iso(row.revoked_at),
      revokedBy: row.revoked_by,
      lastUsedAt: iso(row.last_used_at),
    };
  }
}

/** Connector tokens to ConnectorTokens, every other bearer token (a JWT) to `jwt`. */
export function withConnectorTokens(connectors: ConnectorTokens, jwt: TokenVerifier): TokenVerifier {
  return { verify: (token) => (ConnectorTokens.isConnectorToken(token) ? connectors.verify(token) : jwt.verify(token)) };
}
