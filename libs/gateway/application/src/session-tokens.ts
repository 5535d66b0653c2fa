import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { SqlDatabase, SqlExecutor } from '@custos/platform/event-store';
import type { SessionRefusalReason } from '@custos/gateway/contracts';

/** A token as handed out once: the secret, and when it stops working. */
export interface IssuedToken {
  token: string;
  expiresAt: string;
}

/** What a presented token was issued for. */
export interface TokenClaim {
  identityId: string;
  target: string;
}

const PREFIX = 'cgs_';

/**
 * SessionTokens are the gateway's short-lived, single-use passwords: 32 random bytes, kept only as
 * their SHA-256 (a database leak reveals no usable token), bound to one identity and one target,
 * spent by the first connection that presents them. Spending is one conditional UPDATE, so two
 * gateways given the same token at once let exactly one in; a replay after that is told apart
 * from an unknown token for the audit trail.
 */
export class SessionTokens {
  constructor(
    private readonly db: SqlDatabase,
    private readonly schema: string,
    private readonly clock: () => Date,
  ) {}

  async migrate(x: SqlExecutor = this.db): Promise<void> {
    await x.query(`CREATE SCHEMA IF NOT EXISTS ${this.schema}`);
    await x.query(
      `CREATE TABLE IF NOT EXISTS ${this.schema}.session_tokens (
         hash bytea PRIMARY KEY, identity_id text NOT NULL, target text NOT NULL,
         issued_at timestamptz NOT NULL, expires_at timestamptz NOT NULL, spent_at timestamptz)`,
    );
  }

  async issue(claim: TokenClaim, ttlMs: number): Promise<IssuedToken> {
    const token = PREFIX + randomBytes(32).toString('base64url');
    const now = this.clock();
    const expiresAt = new Date(now.getTime() + ttlMs);
    await this.db.query(`INSERT INTO ${this.schema}.session_tokens (hash, identity_id, target, issued_at, expires_at) VALUES ($1, $2, $3, $4, $5)`, [
      hashOf(token),
      claim.identityId,
      claim.target,
      now.toISOString(),
      expiresAt.toISOString(),
    ]);
    // Spent and long-expired tokens are of no use to anyone: kept an hour for the refusals' reasons, then gone.
    await this.db.query(`DELETE FROM ${this.schema}.session_tokens WHERE expires_at < $1`, [new Date(now.getTime() - 3_600_000).toISOString()]);
    return { token, expiresAt: expiresAt.toISOString() };
  }

  /** Spends a token presented by `user` for `target`: its claim, or why it is refused. */
  async spend(token: string, user: string, target: string): Promise<{ ok: true; claim: TokenClaim } | { ok: false; reason: SessionRefusalReason }> {
    if (!token.startsWith(PREFIX) || token.length > 128) return { ok: false, reason: 'invalid-token' };
    const hash = hashOf(token);
    const now = this.clock().toISOString();
    const spent = await this.db.query<{ identity_id: string; target: string }>(
      `UPDATE ${this.schema}.session_tokens SET spent_at = $2
       WHERE hash = $1 AND spent_at IS NULL AND expires_at > $2 AND identity_id = $3 AND target = $4
       RETURNING identity_id, target`,
      [hash, now, user, target],
    );
    if (spent.rows.length === 1) return { ok: true, claim: { identityId: spent.rows[0].identity_id, target: spent.rows[0].target } };
    const { rows } = await this.db.query<{ hash: Buffer; identity_id: string; target: string; expires_at: Date | string; spent_at: Date | string | null }>(
      `SELECT hash, identity_id, target, expires_at, spent_at FROM ${this.schema}.session_tokens WHERE hash = $1`,
      [hash],
    );
    const row = rows[0];
    if (!row || !timingSafeEqual(Buffer.from(row.hash), hash)) return { ok: false, reason: 'invalid-token' };
    if (row.spent_at !== null) return { ok: false, reason: 'replayed-token' };
    if (row.identity_id !== user) return { ok: false, reason: 'wrong-user' };
    if (row.target !== target) return { ok: false, reason: 'wrong-target' };
    return { ok: false, reason: 'expired-token' };
  }
}

function hashOf(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}
