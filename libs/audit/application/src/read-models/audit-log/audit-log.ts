import { identityConcernedByEntitlementEvent } from '@custos/entitlement/contracts';
import { identityConcernedByGatewayEvent } from '@custos/gateway/contracts';
import { identityConcernedByIdentityEvent } from '@custos/identity/contracts';
import type { CustosEvent, SqlDatabase, SqlExecutor } from '@custos/platform/event-store';
import { identityConcernedByPrivilegedEvent } from '@custos/privileged/contracts';
import { identityConcernedByRequestEvent } from '@custos/request/contracts';
import { GroupCommit, migrateContext, settle, type Settled } from '@custos/platform/runtime';
import { canonicalText } from '../../canonical';
import { TransparencyLog, transparencySchema, TransparencySettings, TreeVerdict } from '../../transparency/transparency-log';
import { AccessHistory, type Deprovisioned } from '../../history/access-history';

/** Each audited context's own answer to which identity one of its events concerns, by context name. */
const IDENTITY_CONCERNED_BY = new Map<string, (event: CustosEvent) => string | undefined>([
  ['identity', identityConcernedByIdentityEvent],
  ['entitlement', identityConcernedByEntitlementEvent],
  ['request', identityConcernedByRequestEvent],
  ['privileged', identityConcernedByPrivilegedEvent],
  ['gateway', identityConcernedByGatewayEvent],
]);

/**
 * Which identity an event concerns, for "everything about identity X" queries: asked of the
 * context that wrote it, through its contracts (the audit context guesses no field names).
 */
export function identityOf(event: CustosEvent): string | null {
  // The writing context, from the CloudEvents type `custos.<context>.<EventName>.v<N>`.
  const context = event.type.split('.')[1];
  const concernedBy = IDENTITY_CONCERNED_BY.get(context);
  const concerned = concernedBy ? concernedBy(event) : undefined;
  return typeof concerned === 'string' ? concerned : null;
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
  /** The entry's RFC 6962 leaf hash, base64. */
  hash: string;
  event: CustosEvent;
}

const LOG_LOCK = 0x637573746f73; // "custos": serialises appends to the log and its tree across consumers and replicas

/** Without a signer no checkpoint is made; the tree and its proofs are kept all the same. */
const UNSIGNED: TransparencySettings = { origin: 'custos/audit', checkpointEvery: 1000 };

/**
 * The audit log: every event of every context, once, as the leaves of an RFC 6962 Merkle tree
 * (see TransparencyLog) whose stored nodes grow in the transaction of each append. The tables
 * refuse UPDATE and DELETE, so the log can only grow.
 */
export class AuditLog {
  readonly tree: TransparencyLog;
  /** The temporal read model of access, kept with the log (see AccessHistory). */
  readonly history: AccessHistory;
  /** Told of each leaver whose access is all gone, once the entries that show it are committed. */
  onDeprovisioned?: (leavers: Deprovisioned[]) => void;

  constructor(
    readonly db: SqlDatabase,
    readonly schema = 'audit',
    settings: TransparencySettings = UNSIGNED,
  ) {
    this.tree = new TransparencyLog(db, schema, settings);
    this.history = new AccessHistory(schema);
  }

  /** Takes the log's lock for the rest of the transaction: appends and checkpoints happen one at a time. */
  readonly lock = async (tx: SqlExecutor): Promise<void> => {
    await tx.query(`SELECT pg_advisory_xact_lock(${LOG_LOCK})`);
  };

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
        event jsonb NOT NULL
      )`);
      // The hash chain of earlier versions: the Merkle tree replaces it (built below from the same entries).
      await tx.query(`ALTER TABLE ${s}.log DROP COLUMN IF EXISTS prev_hash, DROP COLUMN IF EXISTS hash`);
      await tx.query(`CREATE INDEX IF NOT EXISTS log_identity ON ${s}.log (identity_id, seq)`);
      await tx.query(`CREATE INDEX IF NOT EXISTS log_name ON ${s}.log (name, seq)`);
      await tx.query(`CREATE INDEX IF NOT EXISTS log_time ON ${s}.log (time)`);
      // The reason chains read a request's or a break-glass use's events by their stream.
      await tx.query(`CREATE INDEX IF NOT EXISTS log_subject ON ${s}.log (subject, seq)`);
      // The cross-check with each context's store reads the log by source, in order.
      await tx.query(`CREATE INDEX IF NOT EXISTS log_source ON ${s}.log (source, seq)`);
      await tx.query(`CREATE OR REPLACE FUNCTION ${s}.refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'the audit log is append-only: % refused', TG_OP; END $$`);
      await tx.query(`DROP TRIGGER IF EXISTS log_append_only ON ${s}.log`);
      await tx.query(`CREATE TRIGGER log_append_only BEFORE UPDATE OR DELETE ON ${s}.log FOR EACH ROW EXECUTE FUNCTION ${s}.refuse_change()`);
      await tx.query(`DROP TRIGGER IF EXISTS log_no_truncate ON ${s}.log`);
      await tx.query(`CREATE TRIGGER log_no_truncate BEFORE TRUNCATE ON ${s}.log FOR EACH STATEMENT EXECUTE FUNCTION ${s}.refuse_change()`);
    }, transparencySchema(s), (tx) => this.treeUpToDate(tx), this.history.migrate, (tx) => this.historyUpToDate(tx)]);
  }

  /** Brings the history up to the log (a log written before the history existed). */
  private async historyUpToDate(tx: SqlExecutor): Promise<void> {
    await this.lock(tx);
    await this.history.catchUpIn(tx);
  }

  /**
   * Drops the history's rows and replays the whole log into them, in one transaction under the
   * log's lock (appends wait): `custos projections rebuild audit-history`. Returns how many entries.
   */
  rebuildHistory(progress?: (done: number) => void): Promise<number> {
    return this.db.transaction(async (tx) => {
      await this.lock(tx);
      return this.history.rebuildIn(tx, progress);
    });
  }

  /** Builds the tree over entries it does not hold yet (a log written before the tree existed). */
  private async treeUpToDate(tx: SqlExecutor): Promise<void> {
    await this.lock(tx);
    for (;;) {
      const size = await this.tree.size(tx);
      const { rows } = await tx.query<{ seq: string; event: CustosEvent | string }>(
        `SELECT seq, event FROM ${this.schema}.log WHERE seq > $1 ORDER BY seq LIMIT 1000`,
        [size],
      );
      if (rows.length === 0) return;
      const entries = rows.map((row, i) => {
        if (Number(row.seq) !== size + i + 1) throw new Error(`the audit log misses entry ${size + i + 1}: its tree cannot be built`);
        return entryText(Number(row.seq), canonicalText(parseJson(row.event)));
      });
      await this.tree.appendIn(tx, size, entries, Number.MAX_SAFE_INTEGER);
    }
  }

  /** Records an event once: a redelivered event (same id) changes nothing. */
  async record(event: CustosEvent): Promise<'recorded' | 'duplicate'> {
    return (await this.recordBatch([event])) === 1 ? 'recorded' : 'duplicate';
  }

  /**
   * Records events in order, in one transaction of three statements whatever their number, and
   * returns how many were new: an event already in the log, or earlier in `events`, is skipped.
   * Batches recorded at the same moment (the consumers of several contexts) share a transaction,
   * each after the ones that arrived before it: appends to the log are serialised by its lock
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

  /** Appends the events the log does not hold yet, and their leaves to the tree; returns their ids. */
  private async recordIn(tx: SqlExecutor, events: CustosEvent[]): Promise<Set<string>> {
    await this.lock(tx);
    // What the log already holds of these events, its head and its last checkpoint, in one round
    // trip (after the lock: a statement's snapshot is taken when it starts, so the head is read
    // only once the lock is ours).
    const { rows: [found] } = await tx.query<{ seen: string[] | null; seq: string | null; checkpointed: string | null }>(
      `SELECT (SELECT array_agg(event_id) FROM ${this.schema}.log WHERE event_id = ANY($1::text[])) AS seen,
              (SELECT max(seq) FROM ${this.schema}.log) AS seq,
              (SELECT max(tree_size) FROM ${this.schema}.tree_checkpoints) AS checkpointed`,
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
    const size = Number(found.seq ?? 0);
    let seq = size;
    // All rows in one statement and one JSON parameter (an array per column would have the
    // driver escape every element in JavaScript). Each event is serialised once, canonically: the
    // text that is hashed is what is stored (as jsonb), so verification recomputes exactly it.
    const entries: string[] = [];
    const rows = fresh.map((event) => {
      const text = canonicalText(event);
      const columns = [++seq, event.id, event.name ?? event.type, event.type, event.source, event.subject, identityOf(event), event.correlationid, event.time];
      entries.push(entryText(seq, text));
      return `[${JSON.stringify(columns).slice(1, -1)},${text}]`;
    });
    await tx.query(
      `INSERT INTO ${this.schema}.log (seq, event_id, name, type, source, subject, identity_id, correlation_id, time, event)
       SELECT (r->>0)::bigint, r->>1, r->>2, r->>3, r->>4, r->>5, r->>6, r->>7, (r->>8)::timestamptz, r->9
       FROM jsonb_array_elements($1::jsonb) AS x(r)`,
      [`[${rows.join(',')}]`],
    );
    // The tree grows in the same transaction: an entry is never without its leaf.
    await this.tree.appendIn(tx, size, entries, Number(found.checkpointed ?? 0));
    // And the history: it holds exactly what the log holds.
    const deprovisioned = await this.history.applyIn(tx, size, seq);
    if (deprovisioned.length > 0 && this.onDeprovisioned) {
      const tell = this.onDeprovisioned;
      if (tx.afterCommit) tx.afterCommit(() => tell(deprovisioned));
    }
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
      `SELECT l.seq, encode(t.hash, 'base64') AS hash, l.event FROM (
         SELECT seq, event FROM ${this.schema}.log ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq LIMIT $${params.length}
       ) AS l LEFT JOIN ${this.schema}.tree t ON t.level = 0 AND t.idx = l.seq - 1 ORDER BY l.seq`,
      params,
    );
    const page = rows.slice(0, query.limit).map((row) => ({ seq: Number(row.seq), hash: row.hash, event: parseJson(row.event) }));
    const next = rows.length > query.limit ? String(page[page.length - 1].seq) : null;
    return { items: page, next };
  }

  /**
   * Recomputes the tree from every entry and checks it against the stored tree and every
   * checkpoint (signature and root); names the first entry that differs.
   */
  verify(pageSize = 1000): Promise<TreeVerdict> {
    return this.tree.verify(async (from, until) => {
      const { rows } = await this.db.query<{ seq: string; event: CustosEvent | string; leaf: string | null }>(
        `SELECT l.seq, l.event, encode(t.hash, 'hex') AS leaf FROM ${this.schema}.log l
         LEFT JOIN ${this.schema}.tree t ON t.level = 0 AND t.idx = l.seq - 1
         WHERE l.seq >= $1 AND l.seq <= $2 ORDER BY l.seq LIMIT $3`,
        [from, until, pageSize],
      );
      return rows.map((r) => ({ seq: Number(r.seq), entry: entryText(Number(r.seq), canonicalText(parseJson(r.event))), leaf: r.leaf }));
    });
  }

  /** Entries from..to (1-based, inclusive) in order, as stored, in pages. */
  async entries(from: number, to: number, limit: number): Promise<Array<{ seq: number; event: CustosEvent }>> {
    const { rows } = await this.db.query<{ seq: string; event: CustosEvent | string }>(
      `SELECT seq, event FROM ${this.schema}.log WHERE seq >= $1 AND seq <= $2 ORDER BY seq LIMIT $3`,
      [from, to, limit],
    );
    return rows.map((r) => ({ seq: Number(r.seq), event: parseJson(r.event) }));
  }
}

/**
 * The bytes of entry `seq` from its event's canonical text: `{"event":<event>,"seq":<seq>}`, the
 * RFC 8785 canonical JSON of the pair (its keys are in order and the event's text is canonical),
 * which entryBytes computes from the values.
 */
export function entryText(seq: number, canonicalEvent: string): string {
  return `{"event":${canonicalEvent},"seq":${seq}}`;
}

function parseJson<T>(value: T | string): T {
  return typeof value === 'string' ? (JSON.parse(value) as T) : value;
}
