import { applyEntitlementChanges, type EntitlementChanges, type EntitlementDefinition, type SodPolicyDefinition } from '@custos/entitlement/contracts';
import type { CustosEvent, SqlExecutor } from '@custos/platform/event-store';

/** An entry of the audit log: its place and its event. */
export interface LogEntry {
  seq: number;
  event: CustosEvent;
}

/** A leaver whose access is all gone: how long it took from the termination taking effect. */
export interface Deprovisioned {
  identityId: string;
  seconds: number;
}

/** The identity events that change an identity's status, and what they are called on its timeline. */
const STATUS_CHANGES: Readonly<Record<string, string>> = {
  IdentityHired: 'hired',
  IdentityActivated: 'activated',
  IdentityTerminated: 'terminated',
  IdentityRehired: 'rehired',
};

/** The context that wrote an event, from its CloudEvents type `custos.<context>.<EventName>.v<N>`. */
export function contextOf(event: CustosEvent): string {
  return event.type.split('.')[1] ?? '';
}

/** An event's short name (`AccessGranted`). */
export function nameOf(event: CustosEvent): string {
  return event.name ?? event.type.split('.')[2] ?? '';
}

function text(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}

/** An RFC 3339 time as ISO text, or null when the value is not one (the history skips what it cannot place in time). */
function instant(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  const ms = Date.parse(value);
  return Number.isFinite(ms) ? new Date(ms).toISOString() : null;
}

const own = (data: unknown): Record<string, unknown> => (data !== null && typeof data === 'object' && !Array.isArray(data) ? (data as Record<string, unknown>) : {});

/**
 * The audit context's history of access: a temporal read model of the log, kept in the
 * transaction that appends the entries (so it holds exactly the log's entries, each once) and
 * rebuilt from the log by replay. It answers what was held at any instant, as known at any
 * recorded time, without replaying anything at query time:
 *
 * - `grants`: one row per grant, its effective interval (`granted_at` .. the earlier of
 *   `revoked_at` and `expires_at`) and when each end was recorded (`*_recorded`, the envelope
 *   time of the event), indexed by identity and by entitlement;
 * - `identity_timeline`: each identity's status changes (hire, activation, termination, rehire),
 *   effective and recorded;
 * - `leavers`: each termination, and when its last grant ended once the entitlement context has
 *   ended them all (the deprovisioning time);
 * - `catalog`, `sod_policies`, `sod_exceptions`, `access_states`: what the reports read.
 */
export class AccessHistory {
  constructor(private readonly schema = 'audit') {}

  /** The tables: a migration step of the audit schema. */
  migrate = async (tx: SqlExecutor): Promise<void> => {
    const s = this.schema;
    await tx.query(`CREATE TABLE IF NOT EXISTS ${s}.history_position (one boolean PRIMARY KEY DEFAULT true CHECK (one), seq bigint NOT NULL)`);
    await tx.query(`INSERT INTO ${s}.history_position (seq) VALUES (0) ON CONFLICT DO NOTHING`);
    await tx.query(`CREATE TABLE IF NOT EXISTS ${s}.grants (
      identity_id text NOT NULL,
      grant_id text NOT NULL,
      entitlement text NOT NULL,
      source text NOT NULL,
      role text,
      rule_key text,
      request_id text,
      reason text,
      granted_at timestamptz NOT NULL,
      granted_recorded timestamptz NOT NULL,
      granted_seq bigint NOT NULL,
      granted_event text NOT NULL,
      granted_by text,
      cause text,
      expires_at timestamptz,
      revoked_at timestamptz,
      revoked_recorded timestamptz,
      revoked_seq bigint,
      revoke_reason text,
      PRIMARY KEY (identity_id, grant_id)
    )`);
    await tx.query(`CREATE INDEX IF NOT EXISTS grants_identity ON ${s}.grants (identity_id, granted_at)`);
    await tx.query(`CREATE INDEX IF NOT EXISTS grants_entitlement ON ${s}.grants (entitlement, granted_at)`);
    await tx.query(`CREATE TABLE IF NOT EXISTS ${s}.identity_timeline (
      seq bigint PRIMARY KEY,
      identity_id text NOT NULL,
      change text NOT NULL,
      status text NOT NULL,
      effective_at timestamptz NOT NULL,
      recorded_at timestamptz NOT NULL
    )`);
    await tx.query(`CREATE INDEX IF NOT EXISTS identity_timeline_identity ON ${s}.identity_timeline (identity_id, effective_at)`);
    await tx.query(`CREATE TABLE IF NOT EXISTS ${s}.leavers (
      seq bigint PRIMARY KEY,
      identity_id text NOT NULL,
      effective_at timestamptz NOT NULL,
      recorded_at timestamptz NOT NULL,
      deprovisioned_at timestamptz,
      grants integer
    )`);
    await tx.query(`CREATE INDEX IF NOT EXISTS leavers_identity ON ${s}.leavers (identity_id) WHERE deprovisioned_at IS NULL`);
    await tx.query(`CREATE INDEX IF NOT EXISTS leavers_effective ON ${s}.leavers (effective_at)`);
    await tx.query(`CREATE TABLE IF NOT EXISTS ${s}.access_states (identity_id text PRIMARY KEY, terminated boolean NOT NULL, at timestamptz NOT NULL, seq bigint NOT NULL)`);
    await tx.query(`CREATE TABLE IF NOT EXISTS ${s}.catalog (key text PRIMARY KEY, definition jsonb NOT NULL, retired_at timestamptz)`);
    await tx.query(`CREATE TABLE IF NOT EXISTS ${s}.sod_policies (key text PRIMARY KEY, definition jsonb NOT NULL)`);
    await tx.query(`CREATE TABLE IF NOT EXISTS ${s}.sod_exceptions (
      seq bigint PRIMARY KEY,
      identity_id text NOT NULL,
      grant_id text NOT NULL,
      entitlement text NOT NULL,
      conflicts jsonb NOT NULL,
      reason text,
      approved_by text,
      recorded_at timestamptz NOT NULL
    )`);
    await tx.query(`CREATE INDEX IF NOT EXISTS sod_exceptions_grant ON ${s}.sod_exceptions (identity_id, grant_id)`);
  };

  /** The tables the history keeps, emptied by a rebuild. */
  static readonly TABLES = ['grants', 'identity_timeline', 'leavers', 'access_states', 'catalog', 'sod_policies', 'sod_exceptions'] as const;

  /** The last log entry the history holds. */
  async position(x: SqlExecutor): Promise<number> {
    const { rows } = await x.query<{ seq: string }>(`SELECT seq FROM ${this.schema}.history_position`);
    return Number(rows[0]?.seq ?? 0);
  }

  /**
   * Applies log entries (in log order, after the position) in the caller's transaction, in a few
   * statements whatever their number; returns the leavers whose access is now all gone. The caller
   * holds the log's lock.
   */
  async applyIn(tx: SqlExecutor, entries: LogEntry[]): Promise<Deprovisioned[]> {
    if (entries.length === 0) return [];
    const s = this.schema;
    const grants: unknown[][] = [];
    const revocations: unknown[][] = [];
    const timeline: unknown[][] = [];
    const leavers: unknown[][] = [];
    const exceptions: unknown[][] = [];
    const accessStates = new Map<string, unknown[]>();
    const catalog: Array<{ key: string; defined?: EntitlementDefinition; changes?: EntitlementChanges; retiredAt?: string }> = [];
    const policies = new Map<string, SodPolicyDefinition>();
    const touched = new Set<string>();
    for (const { seq, event } of entries) {
      const data = own(event.data);
      const name = nameOf(event);
      const recorded = instant(event.time);
      if (!recorded) continue;
      const context = contextOf(event);
      if (context === 'identity') {
        const change = Object.prototype.hasOwnProperty.call(STATUS_CHANGES, name) ? STATUS_CHANGES[name] : undefined;
        const identityId = text(data.identityId);
        const status = text(own(data.identity).status);
        const effective = instant(data.effectiveAt);
        if (!change || !identityId || !status || !effective) continue;
        timeline.push([seq, identityId, change, status, effective, instant(data.recordedAt) ?? recorded]);
        if (change === 'terminated') {
          leavers.push([seq, identityId, effective, instant(data.recordedAt) ?? recorded]);
          touched.add(identityId);
        }
      } else if (context === 'entitlement') {
        const identityId = text(data.identityId);
        switch (name) {
          case 'AccessGranted': {
            const [grantId, entitlement, source, grantedAt] = [text(data.grantId), text(data.entitlement), text(data.source), instant(data.grantedAt)];
            if (!identityId || !grantId || !entitlement || !source || !grantedAt) break;
            grants.push([
              identityId, grantId, entitlement, source, text(data.role), text(data.ruleKey), text(data.requestId), text(data.reason),
              grantedAt, recorded, seq, event.id, text(event.actor), text(event.causationid), instant(data.expiresAt),
            ]);
            touched.add(identityId);
            break;
          }
          case 'AccessRevoked': {
            const [grantId, revokedAt] = [text(data.grantId), instant(data.revokedAt)];
            if (!identityId || !grantId || !revokedAt) break;
            revocations.push([identityId, grantId, revokedAt, recorded, seq, text(data.reason)]);
            touched.add(identityId);
            break;
          }
          case 'AccessTerminated':
          case 'AccessReinstated': {
            const at = instant(data.at);
            if (!identityId || !at) break;
            accessStates.set(identityId, [identityId, name === 'AccessTerminated', at, seq]);
            touched.add(identityId);
            break;
          }
          case 'SodExceptionRecorded': {
            const [grantId, entitlement, at] = [text(data.grantId), text(data.entitlement), instant(data.recordedAt) ?? recorded];
            if (!identityId || !grantId || !entitlement || !Array.isArray(data.conflicts)) break;
            exceptions.push([seq, identityId, grantId, entitlement, data.conflicts, text(data.reason), text(data.approvedBy), at]);
            break;
          }
          case 'EntitlementDefined': {
            const key = text(data.key);
            if (key) catalog.push({ key, defined: data as unknown as EntitlementDefinition });
            break;
          }
          case 'EntitlementChanged': {
            const key = text(data.key);
            if (key) catalog.push({ key, changes: own(data.changes) as EntitlementChanges });
            break;
          }
          case 'EntitlementRetired': {
            const key = text(data.key);
            if (key) catalog.push({ key, retiredAt: instant(data.retiredAt) ?? recorded });
            break;
          }
          case 'SodPolicyDefined': {
            const key = text(data.key);
            const conflicting = data.conflicting;
            if (key && Array.isArray(conflicting) && conflicting.length === 2 && conflicting.every((side) => Array.isArray(side))) {
              policies.set(key, data as unknown as SodPolicyDefinition);
            }
            break;
          }
        }
      }
    }
    const rowsOf = (rows: unknown) => JSON.stringify(rows);
    if (grants.length > 0) {
      // Granted and revoked in one batch: the grant is inserted first, the statements run in order.
      await tx.query(
        `INSERT INTO ${s}.grants (identity_id, grant_id, entitlement, source, role, rule_key, request_id, reason, granted_at, granted_recorded,
                                  granted_seq, granted_event, granted_by, cause, expires_at)
         SELECT r->>0, r->>1, r->>2, r->>3, r->>4, r->>5, r->>6, r->>7, (r->>8)::timestamptz, (r->>9)::timestamptz,
                (r->>10)::bigint, r->>11, r->>12, r->>13, (r->>14)::timestamptz
         FROM jsonb_array_elements($1::jsonb) AS x(r) ON CONFLICT (identity_id, grant_id) DO NOTHING`,
        [rowsOf(grants)],
      );
    }
    if (revocations.length > 0) {
      await tx.query(
        `UPDATE ${s}.grants g SET revoked_at = (r->>2)::timestamptz, revoked_recorded = (r->>3)::timestamptz, revoked_seq = (r->>4)::bigint, revoke_reason = r->>5
         FROM jsonb_array_elements($1::jsonb) AS x(r) WHERE g.identity_id = r->>0 AND g.grant_id = r->>1 AND g.revoked_seq IS NULL`,
        [rowsOf(revocations)],
      );
    }
    if (timeline.length > 0) {
      await tx.query(
        `INSERT INTO ${s}.identity_timeline (seq, identity_id, change, status, effective_at, recorded_at)
         SELECT (r->>0)::bigint, r->>1, r->>2, r->>3, (r->>4)::timestamptz, (r->>5)::timestamptz FROM jsonb_array_elements($1::jsonb) AS x(r)
         ON CONFLICT (seq) DO NOTHING`,
        [rowsOf(timeline)],
      );
    }
    if (leavers.length > 0) {
      await tx.query(
        `INSERT INTO ${s}.leavers (seq, identity_id, effective_at, recorded_at)
         SELECT (r->>0)::bigint, r->>1, (r->>2)::timestamptz, (r->>3)::timestamptz FROM jsonb_array_elements($1::jsonb) AS x(r)
         ON CONFLICT (seq) DO NOTHING`,
        [rowsOf(leavers)],
      );
    }
    if (accessStates.size > 0) {
      await tx.query(
        `INSERT INTO ${s}.access_states (identity_id, terminated, at, seq)
         SELECT r->>0, (r->>1)::boolean, (r->>2)::timestamptz, (r->>3)::bigint FROM jsonb_array_elements($1::jsonb) AS x(r)
         ON CONFLICT (identity_id) DO UPDATE SET terminated = excluded.terminated, at = excluded.at, seq = excluded.seq WHERE ${s}.access_states.seq < excluded.seq`,
        [rowsOf([...accessStates.values()])],
      );
    }
    if (exceptions.length > 0) {
      await tx.query(
        `INSERT INTO ${s}.sod_exceptions (seq, identity_id, grant_id, entitlement, conflicts, reason, approved_by, recorded_at)
         SELECT (r->>0)::bigint, r->>1, r->>2, r->>3, r->4, r->>5, r->>6, (r->>7)::timestamptz FROM jsonb_array_elements($1::jsonb) AS x(r)
         ON CONFLICT (seq) DO NOTHING`,
        [rowsOf(exceptions)],
      );
    }
    if (catalog.length > 0) await this.applyCatalog(tx, catalog);
    if (policies.size > 0) {
      await tx.query(
        `INSERT INTO ${s}.sod_policies (key, definition) SELECT r->>'key', r FROM jsonb_array_elements($1::jsonb) AS x(r)
         ON CONFLICT (key) DO UPDATE SET definition = excluded.definition`,
        [rowsOf([...policies.values()])],
      );
    }
    await tx.query(`UPDATE ${s}.history_position SET seq = $1`, [entries[entries.length - 1].seq]);
    return touched.size > 0 ? this.completeLeavers(tx, [...touched]) : [];
  }

  /** The catalog's definitions as the entitlement context changed them, in order (EntitlementChanged says only what changed). */
  private async applyCatalog(
    tx: SqlExecutor,
    changes: Array<{ key: string; defined?: EntitlementDefinition; changes?: EntitlementChanges; retiredAt?: string }>,
  ): Promise<void> {
    const keys = [...new Set(changes.map((c) => c.key))];
    const { rows } = await tx.query<{ key: string; definition: EntitlementDefinition | string; retired_at: Date | string | null }>(
      `SELECT key, definition, retired_at FROM ${this.schema}.catalog WHERE key = ANY($1::text[])`,
      [keys],
    );
    const current = new Map<string, { definition: EntitlementDefinition; retiredAt: string | null }>();
    for (const row of rows) {
      const definition = typeof row.definition === 'string' ? (JSON.parse(row.definition) as EntitlementDefinition) : row.definition;
      current.set(row.key, { definition, retiredAt: row.retired_at ? new Date(row.retired_at).toISOString() : null });
    }
    for (const change of changes) {
      const known = current.get(change.key);
      if (change.defined) current.set(change.key, { definition: change.defined, retiredAt: null });
      else if (known && change.changes) current.set(change.key, { ...known, definition: applyEntitlementChanges(known.definition, change.changes) });
      else if (known && change.retiredAt) current.set(change.key, { ...known, retiredAt: change.retiredAt });
    }
    await tx.query(
      `INSERT INTO ${this.schema}.catalog (key, definition, retired_at)
       SELECT r->>0, r->1, (r->>2)::timestamptz FROM jsonb_array_elements($1::jsonb) AS x(r)
       ON CONFLICT (key) DO UPDATE SET definition = excluded.definition, retired_at = excluded.retired_at`,
      [JSON.stringify([...current].map(([key, value]) => [key, value.definition, value.retiredAt]))],
    );
  }

  /**
   * Closes the leavers among `identities` whose access is all gone: the entitlement context has
   * terminated the identity's access (AccessTerminated, not since reinstated), and every grant
   * held during the termination (until a rehire) has its revocation recorded. The deprovisioning
   * time is from the termination taking effect to the end of the last of them (0 with none).
   */
  private async completeLeavers(tx: SqlExecutor, identities: string[]): Promise<Deprovisioned[]> {
    const s = this.schema;
    const { rows } = await tx.query<{ identity_id: string; seconds: string | number }>(
      `WITH open AS (
         SELECT l.seq, l.identity_id, l.effective_at,
                (SELECT min(t.effective_at) FROM ${s}.identity_timeline t
                  WHERE t.identity_id = l.identity_id AND t.change = 'rehired' AND t.effective_at > l.effective_at) AS until
         FROM ${s}.leavers l JOIN ${s}.access_states a ON a.identity_id = l.identity_id AND a.terminated
         WHERE l.deprovisioned_at IS NULL AND l.identity_id = ANY($1::text[])
       ), held AS (
         SELECT o.seq, o.effective_at, count(g.grant_id) AS grants, count(g.grant_id) FILTER (WHERE g.revoked_at IS NULL) AS open,
                max(least(g.revoked_at, g.expires_at)) AS last
         FROM open o LEFT JOIN ${s}.grants g ON g.identity_id = o.identity_id
           AND g.granted_at < coalesce(o.until, 'infinity')
           AND (least(g.revoked_at, g.expires_at) IS NULL OR least(g.revoked_at, g.expires_at) > o.effective_at)
         GROUP BY o.seq, o.effective_at
       )
       UPDATE ${s}.leavers l SET deprovisioned_at = greatest(h.effective_at, coalesce(h.last, h.effective_at)), grants = h.grants
       FROM held h WHERE l.seq = h.seq AND h.open = 0
       RETURNING l.identity_id, extract(epoch FROM greatest(h.effective_at, coalesce(h.last, h.effective_at)) - h.effective_at) AS seconds`,
      [identities],
    );
    return rows.map((r) => ({ identityId: r.identity_id, seconds: Number(r.seconds) }));
  }

  /**
   * Empties the history and replays every log entry into it, in pages, in one transaction under
   * the log's lock (`lock`): what the log holds then is what the history holds after.
   * `progress` is told after each page.
   */
  async rebuildIn(
    tx: SqlExecutor,
    page: (after: number, limit: number) => Promise<LogEntry[]>,
    progress?: (done: number) => void,
    pageSize = 5000,
  ): Promise<number> {
    for (const table of AccessHistory.TABLES) await tx.query(`DELETE FROM ${this.schema}.${table}`);
    await tx.query(`UPDATE ${this.schema}.history_position SET seq = 0`);
    return this.catchUpIn(tx, page, progress, pageSize);
  }

  /** Applies the log entries after the history's position (a history created after its log, or rebuilt). */
  async catchUpIn(tx: SqlExecutor, page: (after: number, limit: number) => Promise<LogEntry[]>, progress?: (done: number) => void, pageSize = 5000): Promise<number> {
    let done = 0;
    for (let after = await this.position(tx); ; ) {
      const entries = await page(after, pageSize);
      if (entries.length === 0) return done;
      await this.applyIn(tx, entries);
      after = entries[entries.length - 1].seq;
      done += entries.length;
      progress?.(done);
    }
  }
}
