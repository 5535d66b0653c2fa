import { applyEntitlementChanges, type EntitlementChanges, type EntitlementDefinition } from '@custos/entitlement/contracts';
import type { SqlExecutor } from '@custos/platform/event-store';

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
    // An instant of an event's data: a valid RFC 3339 time, else null (a malformed time gives no
    // fact instead of failing the append). The common case is cast at once; any other text is
    // tried under an exception handler, which costs a subtransaction, only then.
    await tx.query(`CREATE OR REPLACE FUNCTION ${s}.instant_tried(value text) RETURNS timestamptz LANGUAGE plpgsql STABLE AS
      $$ BEGIN RETURN value::timestamptz; EXCEPTION WHEN others THEN RETURN NULL; END $$`);
    await tx.query(`CREATE OR REPLACE FUNCTION ${s}.instant(value jsonb) RETURNS timestamptz LANGUAGE sql STABLE PARALLEL SAFE AS
      $$ SELECT CASE
           WHEN jsonb_typeof(value) <> 'string' THEN NULL
           WHEN value #>> '{}' ~ '^[1-9][0-9]{3}-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\\.[0-9]{1,6})?(Z|[+-](0[0-9]|1[0-4]):[0-5][0-9])$'
             THEN (value #>> '{}')::timestamptz
           WHEN value #>> '{}' ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})$'
             THEN ${s}.instant_tried(value #>> '{}')
         END $$`);
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
   * Applies the log entries `after` < seq <= `upTo` (already in the log, in this transaction or
   * before) in the caller's transaction: a few statements that read them where they are, in the
   * database, whatever their number, each kind of fact in log order; returns the leavers whose
   * access is now all gone. The caller holds the log's lock. An event whose payload lacks what a
   * fact needs (an id, a valid time) gives no fact: the log records it all the same.
   */
  async applyIn(tx: SqlExecutor, after: number, upTo: number): Promise<Deprovisioned[]> {
    if (upTo <= after) return [];
    const s = this.schema;
    const range = [after, upTo];
    // The entries of one kind in the range: `d` their data, taken out of the event once per entry
    // (OFFSET 0 keeps the planner from repeating it for each field), `time` when their context recorded them.
    const entries = (source: string, names: string[]) =>
      `FROM (
         SELECT l.seq, l.time, l.event_id, l.name, l.event->'data' AS d, l.event->>'actor' AS actor, l.event->>'causationid' AS causationid
         FROM ${s}.log l WHERE l.seq > $1 AND l.seq <= $2 AND l.source = '/custos/${source}' AND l.name IN (${names.map((n) => `'${n}'`).join(', ')})
         OFFSET 0
       ) l`;
    const txt = (field: string) => `nullif(d->>'${field}', '')`;
    const at = (field: string) => `${s}.instant(d->'${field}')`;
    // Granted and revoked in one range: the grant is inserted first, the statements run in order. A
    // grant id is given once per identity (the access decider keeps the ids it issued).
    await tx.query(
      `INSERT INTO ${s}.grants (identity_id, grant_id, entitlement, source, role, rule_key, request_id, reason, granted_at, granted_recorded,
                                granted_seq, granted_event, granted_by, cause, expires_at)
       SELECT * FROM (
         SELECT ${txt('identityId')} AS identity_id, ${txt('grantId')} AS grant_id, ${txt('entitlement')} AS entitlement, ${txt('source')} AS source,
                ${txt('role')}, ${txt('ruleKey')}, ${txt('requestId')}, ${txt('reason')}, ${at('grantedAt')} AS granted_at, l.time,
                l.seq, l.event_id, nullif(l.actor, ''), nullif(l.causationid, ''), ${at('expiresAt')}
         ${entries('entitlement', ['AccessGranted'])}
       ) g WHERE identity_id IS NOT NULL AND grant_id IS NOT NULL AND entitlement IS NOT NULL AND source IS NOT NULL AND granted_at IS NOT NULL
       ON CONFLICT (identity_id, grant_id) DO NOTHING`,
      range,
    );
    await tx.query(
      `UPDATE ${s}.grants g SET revoked_at = r.revoked_at, revoked_recorded = r.time, revoked_seq = r.seq, revoke_reason = r.reason
       FROM (
         SELECT DISTINCT ON (identity_id, grant_id) * FROM (
           SELECT ${txt('identityId')} AS identity_id, ${txt('grantId')} AS grant_id, ${at('revokedAt')} AS revoked_at, l.time, l.seq, ${txt('reason')} AS reason
           ${entries('entitlement', ['AccessRevoked'])}
         ) e WHERE revoked_at IS NOT NULL ORDER BY identity_id, grant_id, seq
       ) r
       WHERE g.identity_id = r.identity_id AND g.grant_id = r.grant_id AND g.revoked_seq IS NULL`,
      range,
    );
    const changes = Object.entries(STATUS_CHANGES);
    await tx.query(
      `INSERT INTO ${s}.identity_timeline (seq, identity_id, change, status, effective_at, recorded_at)
       SELECT * FROM (
         SELECT l.seq, ${txt('identityId')} AS identity_id, CASE l.name ${changes.map(([name, change]) => `WHEN '${name}' THEN '${change}'`).join(' ')} END,
                nullif(d->'identity'->>'status', '') AS status, ${at('effectiveAt')} AS effective_at, coalesce(${at('recordedAt')}, l.time)
         ${entries('identity', changes.map(([name]) => name))}
       ) t WHERE identity_id IS NOT NULL AND status IS NOT NULL AND effective_at IS NOT NULL
       ON CONFLICT (seq) DO NOTHING`,
      range,
    );
    await tx.query(
      `INSERT INTO ${s}.leavers (seq, identity_id, effective_at, recorded_at)
       SELECT seq, identity_id, effective_at, recorded_at FROM ${s}.identity_timeline WHERE seq > $1 AND seq <= $2 AND change = 'terminated'
       ON CONFLICT (seq) DO NOTHING`,
      range,
    );
    await tx.query(
      `INSERT INTO ${s}.access_states (identity_id, terminated, at, seq)
       SELECT DISTINCT ON (identity_id) * FROM (
         SELECT ${txt('identityId')} AS identity_id, l.name = 'AccessTerminated', ${at('at')} AS at, l.seq
         ${entries('entitlement', ['AccessTerminated', 'AccessReinstated'])}
       ) a WHERE identity_id IS NOT NULL AND at IS NOT NULL ORDER BY identity_id, seq DESC
       ON CONFLICT (identity_id) DO UPDATE SET terminated = excluded.terminated, at = excluded.at, seq = excluded.seq WHERE ${s}.access_states.seq < excluded.seq`,
      range,
    );
    await tx.query(
      `INSERT INTO ${s}.sod_exceptions (seq, identity_id, grant_id, entitlement, conflicts, reason, approved_by, recorded_at)
       SELECT * FROM (
         SELECT l.seq, ${txt('identityId')} AS identity_id, ${txt('grantId')} AS grant_id, ${txt('entitlement')} AS entitlement, d->'conflicts' AS conflicts,
                ${txt('reason')}, ${txt('approvedBy')}, coalesce(${at('recordedAt')}, l.time)
         ${entries('entitlement', ['SodExceptionRecorded'])}
       ) e WHERE identity_id IS NOT NULL AND grant_id IS NOT NULL AND entitlement IS NOT NULL AND jsonb_typeof(conflicts) = 'array'
       ON CONFLICT (seq) DO NOTHING`,
      range,
    );
    await tx.query(
      `INSERT INTO ${s}.sod_policies (key, definition)
       SELECT DISTINCT ON (key) key, definition FROM (
         SELECT ${txt('key')} AS key, d AS definition, l.seq ${entries('entitlement', ['SodPolicyDefined'])}
       ) p WHERE key IS NOT NULL AND jsonb_typeof(definition->'conflicting') = 'array' AND jsonb_array_length(definition->'conflicting') = 2
         AND jsonb_typeof(definition->'conflicting'->0) = 'array' AND jsonb_typeof(definition->'conflicting'->1) = 'array'
       ORDER BY key, seq DESC
       ON CONFLICT (key) DO UPDATE SET definition = excluded.definition`,
      range,
    );
    await this.applyCatalog(tx, after, upTo);
    await tx.query(`UPDATE ${s}.history_position SET seq = $1`, [upTo]);
    return this.completeLeavers(tx, after, upTo);
  }

  /**
   * The catalog's definitions as the entitlement context changed them, in log order: an
   * EntitlementChanged says only what changed, and applyEntitlementChanges (the entitlement
   * context's own rule) says what that does to a definition. Catalog events are few: they are read.
   */
  private async applyCatalog(tx: SqlExecutor, after: number, upTo: number): Promise<void> {
    const { rows: events } = await tx.query<{ name: string; data: Record<string, unknown> | string; time: Date | string }>(
      `SELECT name, event->'data' AS data, time FROM ${this.schema}.log
       WHERE seq > $1 AND seq <= $2 AND source = '/custos/entitlement' AND name IN ('EntitlementDefined', 'EntitlementChanged', 'EntitlementRetired') ORDER BY seq`,
      [after, upTo],
    );
    type CatalogChange = { key: string; defined?: EntitlementDefinition; changes?: EntitlementChanges; retiredAt?: string };
    const changes = events.flatMap(({ name, data: raw, time }): CatalogChange[] => {
      const data = own(typeof raw === 'string' ? JSON.parse(raw) : raw);
      const key = text(data.key);
      if (!key) return [];
      if (name === 'EntitlementDefined') return [{ key, defined: data as unknown as EntitlementDefinition }];
      if (name === 'EntitlementChanged') return [{ key, changes: own(data.changes) as EntitlementChanges }];
      return [{ key, retiredAt: instant(data.retiredAt) ?? new Date(time).toISOString() }];
    });
    if (changes.length === 0) return;
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
   * Closes the leavers concerned by the entries after..upTo whose access is all gone: the entitlement context has
   * terminated the identity's access (AccessTerminated, not since reinstated), and every grant
   * held during the termination (until a rehire) has its revocation recorded. The deprovisioning
   * time is from the termination taking effect to the end of the last of them (0 with none).
   */
  private async completeLeavers(tx: SqlExecutor, after: number, upTo: number): Promise<Deprovisioned[]> {
    const s = this.schema;
    const { rows } = await tx.query<{ identity_id: string; seconds: string | number }>(
      `WITH open AS (
         SELECT l.seq, l.identity_id, l.effective_at,
                (SELECT min(t.effective_at) FROM ${s}.identity_timeline t
                  WHERE t.identity_id = l.identity_id AND t.change = 'rehired' AND t.effective_at > l.effective_at) AS until
         FROM ${s}.leavers l JOIN ${s}.access_states a ON a.identity_id = l.identity_id AND a.terminated
         WHERE l.deprovisioned_at IS NULL
           AND l.identity_id IN (SELECT identity_id FROM ${s}.log WHERE seq > $1 AND seq <= $2 AND identity_id IS NOT NULL)
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
      [after, upTo],
    );
    return rows.map((r) => ({ identityId: r.identity_id, seconds: Number(r.seconds) }));
  }

  /**
   * Empties the history and replays every log entry into it, in ranges of `pageSize` entries, in
   * one transaction under the log's lock (the caller's): what the log holds then is what the
   * history holds after; its readers wait until then. `progress` is told after each range.
   */
  async rebuildIn(tx: SqlExecutor, progress?: (done: number) => void, pageSize = 20_000): Promise<number> {
    // TRUNCATE, not DELETE: the rows are rebuilt into empty tables and indexes (re-inserting every
    // key over its own deleted copy costs a check of each); readers wait for the rebuild's commit.
    await tx.query(`TRUNCATE ${AccessHistory.TABLES.map((table) => `${this.schema}.${table}`).join(', ')}`);
    await tx.query(`UPDATE ${this.schema}.history_position SET seq = 0`);
    return this.catchUpIn(tx, progress, pageSize);
  }

  /** Applies the log entries after the history's position (a history created after its log, or rebuilt); returns how many. */
  async catchUpIn(tx: SqlExecutor, progress?: (done: number) => void, pageSize = 20_000): Promise<number> {
    const from = await this.position(tx);
    const { rows } = await tx.query<{ head: string }>(`SELECT coalesce(max(seq), 0) AS head FROM ${this.schema}.log`);
    const head = Number(rows[0].head);
    for (let after = from; after < head; after += pageSize) {
      await this.applyIn(tx, after, Math.min(after + pageSize, head));
      progress?.(Math.min(after + pageSize, head) - from);
    }
    return Math.max(0, head - from);
  }
}
