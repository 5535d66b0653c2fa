import type { CustosEvent, SqlDatabase, SqlExecutor } from '@custos/platform/event-store';
import { GroupCommit, migrateContext, settle, type Settled } from '@custos/platform/runtime';
import { canonicalText, chainHashOfText, ChainEntry, ChainVerdict, GENESIS_HASH, verifyChain } from '../../hash-chain';

/** Which identity an event concerns, for "everything about identity X" queries. */
export function identityOf(event: CustosEvent): string | null {
  const data = event.data as { identityId?: unknown; beneficiaryId?: unknown } | null;
  if (data && typeof data.identityId === 'string') return data.identityId;
  if (data && typeof data.beneficiaryId === 'string') return data.beneficiaryId;
  const match = /^(identity|access)-(.+)$/.exec(event.subject);
  return match ? match[2] : null;
}

export interface AuditQuery {
  identityId?: string;
  /** An event name (`IdentityHired`) or a full CloudEvents type. */
  type?: string;
  correlationId?: string;
  from?: Date;
  to?: Date;
  /** Cursor: the `seq` of the last entry of the previous page. */
  after?: number;
  limit: number;
}

export interface AuditEntry {
  seq: number;
  hash: string;
  event: CustosEvent;
}

const CHAIN_LOCK = 0x637573746f73; // "custos": serialises chain appends across consumers and replicas

/**
 * The audit log: every event of every context, once, in a sha256 hash chain. The table refuses
 * UPDATE and DELETE, so the chain can only grow.
 */
export class AuditLog {
  constructor(
    private readonly db: SqlDatabase,
    private readonly schema = 'audit',
  ) {}

  migrate(): Promise<void> {
    const s = this.schema;
    return migrateContext(this.db, s, [async (tx) => {
      await tx.query(`CREATE TABLE IF NOT EXISTS ${s}.log (
        seq bigint PRIMARY KEY,
        event_id text NOT NULL UNIQUE,
        name text NOT NULL,
        type text NOT NULL,
        source text NOT NULL,
        subject text NOT NULL,
        identity_id text,
        correlation_id text,
        time timestamptz NOT NULL,
        received_at timestamptz NOT NULL DEFAULT now(),
        event jsonb NOT NULL,
        prev_hash text NOT NULL,
        hash text NOT NULL
      )`);
      await tx.query(`CREATE INDEX IF NOT EXISTS log_identity ON ${s}.log (identity_id, seq)`);
      await tx.query(`CREATE INDEX IF NOT EXISTS log_name ON ${s}.log (name, seq)`);
      await tx.query(`CREATE INDEX IF NOT EXISTS log_time ON ${s}.log (time)`);
      await tx.query(`CREATE OR REPLACE FUNCTION ${s}.refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'the audit log is append-only: % refused', TG_OP; END $$`);
      await tx.query(`DROP TRIGGER IF EXISTS log_append_only ON ${s}.log`);
      await tx.query(`CREATE TRIGGER log_append_only BEFORE UPDATE OR DELETE ON ${s}.log FOR EACH ROW EXECUTE FUNCTION ${s}.refuse_change()`);
      await tx.query(`DROP TRIGGER IF EXISTS log_no_truncate ON ${s}.log`);
      await tx.query(`CREATE TRIGGER log_no_truncate BEFORE TRUNCATE ON ${s}.log FOR EACH STATEMENT EXECUTE FUNCTION ${s}.refuse_change()`);
    }]);
  }

  /** Records an event once: a redelivered event (same id) changes nothing. */
  async record(event: CustosEvent): Promise<'recorded' | 'duplicate'> {
    return (await this.recordBatch([event])) === 1 ? 'recorded' : 'duplicate';
  }

  /**
   * Records events in order, in one transaction of three statements whatever their number, and
   * returns how many were new: an event already in the log, or earlier in `events`, is skipped.
   * Batches recorded at the same moment (the consumers of several contexts) share a transaction,
   * each after the ones that arrived before it: appends to the chain are serialised by its lock
   * anyway, and one transaction instead of several spares the waits and round trips.
   */
  async recordBatch(events: CustosEvent[]): Promise<number> {
    if (events.length === 0) return 0;
    return this.batches.submit(events);
  }

  private readonly batches = new GroupCommit<CustosEvent[], number>((batches) => this.recordTogether(batches), { maxBatch: 16 });

  private async recordTogether(batches: CustosEvent[][]): Promise<Array<Settled<number>>> {
    const alone = (events: CustosEvent[]) => settle(() => this.db.transaction(async (tx) => (await this.recordIn(tx, events)).size));
    if (batches.length === 1) return [await alone(batches[0])];
    let recorded: Set<string>;
    try {
      recorded = await this.db.transaction((tx) => this.recordIn(tx, batches.flat()));
    } catch {
      // One batch the database refuses must not fail the others: each on its own, in order.
      const settled: Array<Settled<number>> = [];
      for (const events of batches) settled.push(await alone(events));
      return settled;
    }
    // Each new event counts for the first batch that held it.
    return batches.map((events) => ({ ok: true, value: events.filter((e) => recorded.delete(e.id)).length }));
  }

  /** Appends the events the log does not hold yet to the chain; returns their ids. */
  private async recordIn(tx: SqlExecutor, events: CustosEvent[]): Promise<Set<string>> {
    await tx.query(`SELECT pg_advisory_xact_lock(${CHAIN_LOCK})`);
    // What the log already holds of these events, and its head, in one round trip (after the lock:
    // a statement's snapshot is taken when it starts, so the head is read only once the lock is ours).
    const { rows: [found] } = await tx.query<{ seen: string[] | null; seq: string | null; hash: string | null }>(
      `SELECT (SELECT array_agg(event_id) FROM ${this.schema}.log WHERE event_id = ANY($1::text[])) AS seen, h.seq, h.hash
       FROM (SELECT 1) AS one LEFT JOIN (SELECT seq, hash FROM ${this.schema}.log ORDER BY seq DESC LIMIT 1) AS h ON true`,
      [events.map((e) => e.id)],
    );
    // Skip what the log already holds, and a second copy within the batch.
    const known = new Set(found.seen ?? []);
    const fresh: CustosEvent[] = [];
    for (const event of events) {
      if (known.has(event.id)) continue;
      known.add(event.id);
      fresh.push(event);
    }
    if (fresh.length === 0) return new Set();
    let prevHash = found.hash ?? GENESIS_HASH;
    let seq = Number(found.seq ?? 0);
    // All rows in one statement and one JSON parameter (an array per column would have the
    // driver escape every element in JavaScript). Each event is serialised once, canonically: the
    // text that is hashed is what is stored (as jsonb), so verification recomputes exactly it.
    const rows = fresh.map((event) => {
      const text = canonicalText(event);
      const hash = chainHashOfText(prevHash, text);
      const columns = [++seq, event.id, event.name ?? event.type, event.type, event.source, event.subject, identityOf(event), event.correlationid, event.time, prevHash, hash];
      prevHash = hash;
      return `[${JSON.stringify(columns).slice(1, -1)},${text}]`;
    });
    await tx.query(
      `INSERT INTO ${this.schema}.log (seq, event_id, name, type, source, subject, identity_id, correlation_id, time, prev_hash, hash, event)
       SELECT (r->>0)::bigint, r->>1, r->>2, r->>3, r->>4, r->>5, r->>6, r->>7, (r->>8)::timestamptz, r->>9, r->>10, r->11
       FROM jsonb_array_elements($1::jsonb) AS x(r)`,
      [`[${rows.join(',')}]`],
    );
    return new Set(fresh.map((e) => e.id));
  }

  /** Entries matching the query, oldest first, with a cursor for the next page. */
  async query(query: AuditQuery): Promise<{ items: AuditEntry[]; next: string | null }> {
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (clause: string, value: unknown) => {
      params.push(value);
      where.push(clause.replace('?', `$${params.length}`));
    };
    if (query.identityId) add('identity_id = ?', query.identityId);
    if (query.type) add(query.type.includes('.') ? 'type = ?' : 'name = ?', query.type);
    if (query.correlationId) add('correlation_id = ?', query.correlationId);
    if (query.from) add('time >= ?', query.from.toISOString());
    if (query.to) add('time < ?', query.to.toISOString());
    if (query.after !== undefined) add('seq > ?', query.after);
    params.push(query.limit + 1);
    const { rows } = await this.db.query<{ seq: string; hash: string; event: CustosEvent | string }>(
      `SELECT seq, hash, event FROM ${this.schema}.log ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq LIMIT $${params.length}`,
      params,
    );
    const page = rows.slice(0, query.limit).map((row) => ({ seq: Number(row.seq), hash: row.hash, event: parseJson(row.event) }));
    const next = rows.length > query.limit ? String(page[page.length - 1].seq) : null;
    return { items: page, next };
  }

  /** Recomputes the whole chain from the first entry, page by page. */
  async verify(pageSize = 1000): Promise<ChainVerdict> {
    let state = { events: 0, head: GENESIS_HASH };
    for (;;) {
      const { rows } = await this.db.query<{ seq: string; event: CustosEvent | string; prev_hash: string; hash: string }>(
        `SELECT seq, event, prev_hash, hash FROM ${this.schema}.log WHERE seq > $1 ORDER BY seq LIMIT $2`,
        [state.events, pageSize],
      );
      if (rows.length === 0) return { ok: true, ...state };
      const entries: ChainEntry[] = rows.map((r) => ({ seq: Number(r.seq), event: parseJson(r.event), prevHash: r.prev_hash, hash: r.hash }));
      const verdict = verifyChain(entries, state);
      if (!verdict.ok) return verdict;
      state = { events: verdict.events, head: verdict.head };
    }
  }
}

function parseJson<T>(value: T | string): T {
  return typeof value === 'string' ? (JSON.parse(value) as T) : value;
}
