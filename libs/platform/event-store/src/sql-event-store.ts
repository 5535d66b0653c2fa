import { AppendListeners } from './append-listeners';
import { randomUUID } from 'node:crypto';
import {
  WrongExpectedVersionError,
  type AppendResult,
  type Checkpoint,
  type CustosEvent,
  type ExpectedVersion,
  type NewEvent,
} from './event';
import type {
  AppendOptions,
  EventStore,
  ReadOptions,
  StreamWrite,
  ReadAllResult,
  SubscribeOptions,
  Subscription,
  SubscriptionHandler,
  UnitOfWork,
} from './event-store';
import { SQL_DATABASE, sqlOf, type SqlDatabase, type SqlExecutor } from './sql';
import { SqlSubscription } from './sql-subscription';

export interface SqlEventStoreOptions {
  /** The bounded context (`identity`): names the CloudEvents source and type. */
  context: string;
  /** The PostgreSQL schema that holds this store's `events` and `checkpoints` tables. */
  schema: string;
}

interface EventRow {
  global_position: string;
  tx_id: string;
  stream_id: string;
  stream_version: number;
  event_id: string;
  name: string;
  type: string;
  data: unknown;
  time: string;
  correlation_id: string;
  causation_id: string;
  actor: string;
}

interface AppendedRow {
  event_id: string;
  stream_version: number;
  global_position: string;
  time: string;
}

/** A row of the append statements: an appended event, or (event_id null) the stream's version when it was not the expected one. */
type AppendRow = (AppendedRow & { actual: null }) | { event_id: null; actual: number };

/** An event ready to insert: id, type and correlation fixed. */
interface Draft {
  id: string;
  name: string;
  type: string;
  data: unknown;
  time: string | null;
  correlationId: string;
  causationId: string;
  actor: string;
}

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;
const CONTEXT = /^[a-z][a-z0-9-]*$/;
const STREAM_CONFLICT = 'events_stream_version_key';
/** The store's statements have fixed text and run constantly: worth preparing once per connection. */
const PREPARED = { prepare: true } as const;
/**
 * Reads of streams by id are planned on every call, not prepared: a prepared statement keeps its
 * generic plan, and one made while the table was empty (a new store, or a context with no
 * events yet) is a sequential scan that stays until the next autovacuum analyze, ~4 ms a read at
 * 10,000 events instead of ~0.1 ms. Planning an index lookup costs far less than that risk.
 */
const STREAM_READ = { prepare: false } as const;
/** How often an `any` append re-reads the stream head after losing a race for the next version. */
const ANY_VERSION_ATTEMPTS = 10;

// Formatted in SQL so both drivers hand back the same RFC 3339 UTC string (pg would give a
// Date, PGlite a Date in another realm) and no Date parsing is paid per row on reads.
const TIME_TEXT = `to_char(time AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
const EVENT_COLUMNS = `global_position::text AS global_position, tx_id::text AS tx_id, stream_id, stream_version,
  event_id::text AS event_id, name, type, data, ${TIME_TEXT} AS time, correlation_id, causation_id, actor`;

function isUniqueViolation(error: unknown, constraint: string): boolean {
  const e = error as { code?: unknown; constraint?: unknown } | null;
  return typeof e === 'object' && e !== null && e.code === '23505' && e.constraint === constraint;
}

function checkExpectedVersion(expected: ExpectedVersion): void {
  if (expected === 'any' || expected === 'no-stream') return;
  if (!Number.isSafeInteger(expected) || expected < 0) {
    throw new RangeError(`expected version must be 'any', 'no-stream' or an integer >= 0, got ${String(expected)}`);
  }
}

/**
 * SqlEventStore is the PostgreSQL event store; the same SQL runs on a `pg` server and on
 * embedded PGlite. Streams are rows of one append-only table, ordered by a unique
 * (stream_id, stream_version); catch-up readers follow (transaction id, position) and only
 * read below the oldest running transaction, so an event committed late is never skipped.
 */
export class SqlEventStore implements EventStore {
  private readonly source: string;
  private readonly events: string;
  private readonly checkpoints: string;
  private readonly subscriptions = new Set<SqlSubscription>();
  private readonly appendListeners = new AppendListeners();
  private readonly sql: ReturnType<SqlEventStore['statements']>;
  private closed = false;

  private constructor(
    readonly db: SqlDatabase,
    readonly context: string,
    /** The schema holding `events` and `checkpoints` (for operators and tests). */
    readonly schema: string,
  ) {
    this.source = `/custos/${context}`;
    this.events = `"${schema}".events`;
    this.checkpoints = `"${schema}".checkpoints`;
    this.sql = this.statements();
  }

  /**
   * SqlEventStore.open creates the schema, tables, index and immutability trigger if they are
   * missing (under an advisory lock, so processes starting together do not race) and returns
   * a store over them. It never changes existing data.
   */
  static async open(db: SqlDatabase, options: SqlEventStoreOptions): Promise<SqlEventStore> {
    if (!IDENTIFIER.test(options.schema)) {
      throw new RangeError(`schema must be a lower-case SQL identifier, got ${JSON.stringify(options.schema)}`);
    }
    if (!CONTEXT.test(options.context)) {
      throw new RangeError(`context must be lower-case letters, digits and dashes, got ${JSON.stringify(options.context)}`);
    }
    const store = new SqlEventStore(db, options.context, options.schema);
    await store.migrate();
    return store;
  }

  private async migrate(): Promise<void> {
    const s = `"${this.schema}"`;
    const statements = [
      `CREATE SCHEMA IF NOT EXISTS ${s}`,
      `CREATE TABLE IF NOT EXISTS ${this.events} (
        global_position bigserial PRIMARY KEY,
        tx_id xid8 NOT NULL DEFAULT pg_current_xact_id(),
        stream_id text NOT NULL,
        stream_version integer NOT NULL CHECK (stream_version > 0),
        event_id uuid NOT NULL,
        name text NOT NULL,
        type text NOT NULL,
        data jsonb NOT NULL,
        time timestamptz NOT NULL,
        correlation_id text NOT NULL,
        causation_id text NOT NULL,
        actor text NOT NULL,
        CONSTRAINT events_event_id_key UNIQUE (event_id),
        CONSTRAINT ${STREAM_CONFLICT} UNIQUE (stream_id, stream_version)
      )`,
      `CREATE INDEX IF NOT EXISTS events_tx_position_idx ON ${this.events} (tx_id, global_position)`,
      `CREATE TABLE IF NOT EXISTS ${this.checkpoints} (
        name text PRIMARY KEY,
        tx_id xid8 NOT NULL,
        position bigint NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`,
      `CREATE OR REPLACE FUNCTION ${s}.refuse_event_change() RETURNS trigger LANGUAGE plpgsql AS $fn$
      BEGIN
        RAISE EXCEPTION 'custos event store: % on %.% refused: events are immutable, append a compensating event instead',
          TG_OP, TG_TABLE_SCHEMA, TG_TABLE_NAME
          USING ERRCODE = 'restrict_violation';
      END
      $fn$`,
      // A statement-level trigger refuses even an UPDATE or DELETE that matches no row, and
      // it is the only kind PostgreSQL fires for TRUNCATE.
      `CREATE OR REPLACE TRIGGER events_are_immutable
        BEFORE UPDATE OR DELETE OR TRUNCATE ON ${this.events}
        FOR EACH STATEMENT EXECUTE FUNCTION ${s}.refuse_event_change()`,
    ];
    await this.db.transaction(async (tx) => {
      // Concurrent CREATE ... IF NOT EXISTS can still fail on the catalog's unique indexes;
      // the lock makes the second process wait and then find everything in place.
      await tx.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [`custos.event-store.${this.schema}`]);
      for (const statement of statements) await tx.query(statement);
    });
  }

  private statements() {
    /**
     * One round trip: versions are computed from the stream head read in the same statement. $2
     * is the expected version (null for 'any'). A stale one writes nothing and returns one row
     * with the head it found (event_id null), the stream's actual version, so a conflict costs no
     * second statement; the head is committed data, read before any insert is tried.
     * A writer still in flight with the same versions is not in the statement's snapshot: the
     * insert then waits on the unique index for its commit and takes no row (`onConflict`), or
     * fails with the unique violation.
     */
    const append = (events: string, version: string, onConflict: string) => `WITH head AS (
          SELECT coalesce(max(stream_version), 0) AS version FROM ${this.events} WHERE stream_id = $1
        ), written AS (
          INSERT INTO ${this.events}
            (stream_id, stream_version, event_id, name, type, data, time, correlation_id, causation_id, actor)
          SELECT $1, head.version + ${version}, ${events}
          WHERE $2::integer IS NULL OR head.version = $2::integer
          ${onConflict}
          RETURNING event_id::text AS event_id, stream_version, global_position::text AS global_position, ${TIME_TEXT} AS time
        )
        SELECT event_id, stream_version, global_position, time, NULL::integer AS actual FROM written
        UNION ALL
        SELECT NULL::text, NULL::integer, NULL::text, NULL::text, head.version FROM head WHERE head.version <> $2::integer`;
    return {
      append: append(
        `e.id, e.name, e.type, e.data::jsonb, coalesce(e.time, now()), e.corr, e.caus, e.actor
          FROM head, unnest($3::uuid[], $4::text[], $5::text[], $6::text[], $7::timestamptz[], $8::text[], $9::text[], $10::text[])
            WITH ORDINALITY AS e(id, name, type, data, time, corr, caus, actor, ord)`,
        'e.ord',
        // Several events must not be written in part: a version taken concurrently fails the statement.
        '',
      ),
      // The common case, one event, without the unnest: cheaper to execute and to plan. A version
      // taken concurrently returns no row instead of raising: nothing is aborted, the connection
      // and a caller's transaction stay usable without a savepoint, and no dead row is left.
      appendOne: append(
        `$3::uuid, $4::text, $5::text, $6::jsonb, coalesce($7::timestamptz, now()), $8::text, $9::text, $10::text FROM head`,
        '1',
        `ON CONFLICT ON CONSTRAINT ${STREAM_CONFLICT} DO NOTHING`,
      ),
      // Several streams in one statement: each stream's head is read in the statement, and if any
      // differs from its expected version no row at all is written (all or nothing).
      appendStreams: `WITH e AS (
          SELECT x.r->>'s' AS stream, (x.r->>'v')::integer AS expected, (x.r->>'i')::uuid AS id, x.r->>'n' AS name, x.r->>'t' AS type,
            x.r->'d' AS data, (x.r->>'m')::timestamptz AS time, x.r->>'c' AS corr, x.r->>'k' AS caus, x.r->>'a' AS actor, x.ord
          FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS x(r, ord)
        ), heads AS (
          SELECT s.stream, (SELECT coalesce(max(stream_version), 0) FROM ${this.events} WHERE stream_id = s.stream) AS version
          FROM (SELECT DISTINCT stream FROM e) AS s
        )
        INSERT INTO ${this.events}
          (stream_id, stream_version, event_id, name, type, data, time, correlation_id, causation_id, actor)
        SELECT e.stream, e.expected + row_number() OVER (PARTITION BY e.stream ORDER BY e.ord), e.id, e.name, e.type, e.data,
          coalesce(e.time, now()), e.corr, e.caus, e.actor
        FROM e
        WHERE NOT EXISTS (SELECT 1 FROM heads h JOIN e AS x ON x.stream = h.stream WHERE h.version <> x.expected)
        ORDER BY e.ord
        RETURNING event_id::text AS event_id, stream_id, stream_version, global_position::text AS global_position, ${TIME_TEXT} AS time`,
      versions: `SELECT stream_id, max(stream_version) AS version FROM ${this.events} WHERE stream_id = ANY($1::text[]) GROUP BY stream_id`,
      readStreams: `SELECT ${EVENT_COLUMNS} FROM ${this.events} e WHERE e.stream_id = ANY($1::text[]) ORDER BY e.stream_id, e.stream_version`,
      version: `SELECT coalesce(max(stream_version), 0) AS version FROM ${this.events} WHERE stream_id = $1`,
      streamHead: `SELECT stream_version, global_position::text AS global_position FROM ${this.events}
        WHERE stream_id = $1 ORDER BY stream_version DESC LIMIT 1`,
      readStream: `SELECT ${EVENT_COLUMNS} FROM ${this.events} e
        WHERE e.stream_id = $1 AND e.stream_version >= $2 ORDER BY e.stream_version`,
      // Below the snapshot's xmin every transaction has ended, so no lower tx id can still
      // commit: a reader that advances in (tx_id, position) order never steps over a row.
      // Qualified names in ORDER BY: bare ones would sort by the text output columns of the
      // same name ('10' < '9').
      readAll: `SELECT ${EVENT_COLUMNS} FROM ${this.events} e
        WHERE e.tx_id < pg_snapshot_xmin(pg_current_snapshot())
          AND (e.tx_id, e.global_position) > ($1::xid8, $2::bigint)
        ORDER BY e.tx_id, e.global_position LIMIT $3`,
      head: `SELECT e.tx_id::text AS tx, e.global_position::text AS pos FROM ${this.events} e
        ORDER BY e.tx_id DESC, e.global_position DESC LIMIT 1`,
      checkpointOf: `SELECT tx_id::text AS tx, position::text AS pos FROM ${this.checkpoints} WHERE name = $1`,
      // Saved only if nobody else moved it since we loaded it: a second process running the
      // same subscriber then rolls back its batch instead of applying it twice.
      saveCheckpoint: `INSERT INTO ${this.checkpoints} AS c (name, tx_id, position, updated_at)
        VALUES ($1, $2::xid8, $3::bigint, now())
        ON CONFLICT (name) DO UPDATE SET tx_id = excluded.tx_id, position = excluded.position, updated_at = excluded.updated_at
        WHERE (c.tx_id, c.position) = ($4::xid8, $5::bigint)
        RETURNING 1 AS saved`,
    };
  }

  /**
   * append writes `events` at the end of `streamId` in one statement if the stream is at
   * `expectedVersion` (a number, 'no-stream' = version 0, or 'any'); otherwise it writes
   * nothing and throws WrongExpectedVersionError with the actual version. Inside `options.tx`
   * the events commit or roll back with the caller's transaction.
   */
  async append(
    streamId: string,
    events: NewEvent[],
    expectedVersion: ExpectedVersion,
    options: AppendOptions = {},
  ): Promise<AppendResult> {
    checkExpectedVersion(expectedVersion);
    const executor = this.executor(options.tx);
    const expected = expectedVersion === 'any' ? null : expectedVersion === 'no-stream' ? 0 : expectedVersion;
    if (events.length === 0) return this.appendNothing(executor, streamId, expectedVersion, expected);

    const drafts = events.map((event) => this.draft(event));
    const one = drafts.length === 1 ? drafts[0] : null;
    const text = one ? this.sql.appendOne : this.sql.append;
    const params = one
      ? [streamId, expected, one.id, one.name, one.type, JSON.stringify(one.data ?? null), one.time, one.correlationId, one.causationId, one.actor]
      : [
          streamId,
          expected,
          drafts.map((d) => d.id),
          drafts.map((d) => d.name),
          drafts.map((d) => d.type),
          drafts.map((d) => JSON.stringify(d.data ?? null)),
          drafts.map((d) => d.time),
          drafts.map((d) => d.correlationId),
          drafts.map((d) => d.causationId),
          drafts.map((d) => d.actor),
        ];

    const attempts = expectedVersion === 'any' ? ANY_VERSION_ATTEMPTS : 1;
    for (let attempt = 1; ; attempt++) {
      let rows: AppendRow[];
      try {
        rows =
          options.tx && !one
            ? await this.insertInTransaction<AppendRow>(sqlOf(options.tx), text, params)
            : (await executor.query<AppendRow>(text, params, PREPARED)).rows;
      } catch (error) {
        if (!isUniqueViolation(error, STREAM_CONFLICT)) throw error;
        if (attempt < attempts) continue;
        throw new WrongExpectedVersionError(streamId, expectedVersion, await this.versionOf(executor, streamId));
      }
      const first = rows[0];
      if (first !== undefined && first.event_id === null) {
        // The stream was not at the expected version: the row carries the version it is at.
        throw new WrongExpectedVersionError(streamId, expectedVersion, Number(first.actual));
      }
      if (first === undefined) {
        // appendOne found its version taken by a writer that was still in flight, and waited for
        // its commit: only a new statement sees the version that writer left.
        if (expected === null && attempt < attempts) continue;
        throw new WrongExpectedVersionError(streamId, expectedVersion, await this.versionOf(executor, streamId));
      }
      const appended = rows as AppendedRow[];
      // RETURNING order follows the insert in practice, but nothing promises it.
      appended.sort((a, b) => a.stream_version - b.stream_version);
      const stored = appended.map((row, i) => this.envelope(streamId, drafts[i], row));
      const last = appended[appended.length - 1];
      this.wakeAfter(options.tx);
      return { nextVersion: last.stream_version, globalPosition: last.global_position, events: stored };
    }
  }

  /**
   * appendStreams writes to several streams in one statement, all or nothing (see EventStore).
   * A stream found at another version writes nothing and reports its actual version; a writer
   * that took a version concurrently fails the statement (aborting a caller's transaction), and
   * `actual` is then the version it took, a lower bound of the stream's real one.
   */
  async appendStreams(writes: StreamWrite[], options: AppendOptions = {}): Promise<CustosEvent[][]> {
    const executor = this.executor(options.tx);
    const seen = new Set<string>();
    const flat: Array<{ streamId: string; expected: number; draft: Draft }> = [];
    for (const write of writes) {
      if (seen.has(write.streamId)) throw new RangeError(`appendStreams: stream ${write.streamId} appears twice`);
      seen.add(write.streamId);
      checkExpectedVersion(write.expectedVersion);
      const expected = write.expectedVersion === 'no-stream' ? 0 : write.expectedVersion;
      for (const event of write.events) flat.push({ streamId: write.streamId, expected, draft: this.draft(event) });
    }
    if (flat.length === 0) return writes.map(() => []);
    // One JSON parameter rather than an array per column: the driver escapes every element of a
    // text[] in JavaScript, while JSON.stringify is native (and PostgreSQL parses either in C).
    const json = JSON.stringify(
      flat.map(({ streamId, expected, draft: d }) => ({ s: streamId, v: expected, i: d.id, n: d.name, t: d.type, d: d.data ?? null, m: d.time, c: d.correlationId, k: d.causationId, a: d.actor })),
    );
    let rows: Array<AppendedRow & { stream_id: string }>;
    try {
      ({ rows } = await executor.query<AppendedRow & { stream_id: string }>(this.sql.appendStreams, [json], PREPARED));
    } catch (error) {
      const taken = isUniqueViolation(error, STREAM_CONFLICT) ? /=\((.*), (\d+)\)/.exec(String((error as { detail?: unknown }).detail ?? '')) : null;
      if (!taken) throw error;
      const write = writes.find((w) => w.streamId === taken[1]);
      throw new WrongExpectedVersionError(taken[1], write?.expectedVersion ?? 'any', Number(taken[2]));
    }
    if (rows.length === 0) {
      const { rows: versions } = await executor.query<{ stream_id: string; version: number }>(this.sql.versions, [[...seen]], PREPARED);
      const actual = new Map(versions.map((v) => [v.stream_id, Number(v.version)]));
      const moved = writes.find((w) => (actual.get(w.streamId) ?? 0) !== (w.expectedVersion === 'no-stream' ? 0 : w.expectedVersion));
      if (!moved) throw new Error('appendStreams wrote nothing, yet every stream is at its expected version');
      throw new WrongExpectedVersionError(moved.streamId, moved.expectedVersion, actual.get(moved.streamId) ?? 0);
    }
    const byEventId = new Map(rows.map((row) => [row.event_id, row]));
    const stored = writes.map(() => [] as CustosEvent[]);
    const index = new Map(writes.map((w, i) => [w.streamId, i]));
    for (const f of flat) stored[index.get(f.streamId)!].push(this.envelope(f.streamId, f.draft, byEventId.get(f.draft.id)!));
    this.wakeAfter(options.tx);
    return stored;
  }

  /** readStreams reads several streams in one query, each in version order. */
  async readStreams(streamIds: string[], options: ReadOptions = {}): Promise<Map<string, CustosEvent[]>> {
    const result = new Map<string, CustosEvent[]>(streamIds.map((id) => [id, []]));
    if (streamIds.length === 0) return result;
    // Not prepared, as readStream: planned with the table's size now (see STREAM_READ).
    const { rows } = await this.executor(options.tx).query<EventRow>(this.sql.readStreams, [streamIds], STREAM_READ);
    for (const row of rows) result.get(row.stream_id)?.push(this.toEvent(row));
    return result;
  }

  private draft(event: NewEvent): Draft {
    const id = event.id ?? randomUUID();
    const correlationId = event.correlationId ?? id;
    return {
      id,
      name: event.name,
      type: `custos.${this.context}.${event.name}.v${event.version ?? 1}`,
      data: event.data,
      time: event.time ?? null,
      correlationId,
      causationId: event.causationId ?? correlationId,
      actor: event.actor,
    };
  }

  private envelope(streamId: string, d: Draft, row: AppendedRow): CustosEvent {
    return {
      specversion: '1.0',
      id: d.id,
      source: this.source,
      type: d.type,
      subject: streamId,
      time: row.time,
      datacontenttype: 'application/json',
      data: d.data,
      streamversion: row.stream_version,
      globalposition: row.global_position,
      correlationid: d.correlationId,
      causationid: d.causationId,
      actor: d.actor,
      name: d.name,
    };
  }

  /**
   * A failed statement aborts the whole caller's transaction; the savepoint keeps it
   * usable, so the conflict can be reported with the actual version (and 'any' retried).
   */
  private async insertInTransaction<R>(tx: SqlExecutor, text: string, params: unknown[]): Promise<R[]> {
    await tx.query('SAVEPOINT custos_append');
    try {
      const { rows } = await tx.query<R>(text, params, PREPARED);
      await tx.query('RELEASE SAVEPOINT custos_append');
      return rows;
    } catch (error) {
      await tx.query('ROLLBACK TO SAVEPOINT custos_append');
      await tx.query('RELEASE SAVEPOINT custos_append');
      throw error;
    }
  }

  private async appendNothing(
    executor: SqlExecutor,
    streamId: string,
    expectedVersion: ExpectedVersion,
    expected: number | null,
  ): Promise<AppendResult> {
    const { rows } = await executor.query<{ stream_version: number; global_position: string }>(this.sql.streamHead, [streamId], PREPARED);
    const version = rows[0]?.stream_version ?? 0;
    if (expected !== null && version !== expected) throw new WrongExpectedVersionError(streamId, expectedVersion, version);
    return { nextVersion: version, globalPosition: rows[0]?.global_position ?? '0', events: [] };
  }

  private async versionOf(executor: SqlExecutor, streamId: string): Promise<number> {
    const { rows } = await executor.query<{ version: number }>(this.sql.version, [streamId], PREPARED);
    return Number(rows[0]?.version ?? 0);
  }

  /** readStream returns the events of `streamId` from `fromVersion` (inclusive) in version order. */
  async readStream(streamId: string, fromVersion = 1, options: ReadOptions = {}): Promise<CustosEvent[]> {
    const { rows } = await this.executor(options.tx).query<EventRow>(this.sql.readStream, [streamId, fromVersion], STREAM_READ);
    return rows.map((row) => this.toEvent(row));
  }

  /**
   * readAll returns up to `batchSize` committed events after `from` in (transaction, position)
   * order, stopping below the oldest transaction still running, so a later call from the
   * returned checkpoint never misses an event that commits late.
   */
  async readAll(from: Checkpoint, batchSize: number): Promise<ReadAllResult> {
    return this.readAllWith(this.db, from, batchSize);
  }

  private async readAllWith(executor: SqlExecutor, from: Checkpoint, batchSize: number): Promise<ReadAllResult> {
    if (!Number.isSafeInteger(batchSize) || batchSize <= 0) throw new RangeError(`batchSize must be a positive integer, got ${batchSize}`);
    const { rows } = await executor.query<EventRow>(this.sql.readAll, [from.tx, from.pos, batchSize], PREPARED);
    if (rows.length === 0) return { events: [], checkpoint: from };
    const last = rows[rows.length - 1];
    return { events: rows.map((row) => this.toEvent(row)), checkpoint: { tx: last.tx_id, pos: last.global_position } };
  }

  /** The highest (tx, pos) committed now, or null when the store is empty. */
  async head(): Promise<Checkpoint | null> {
    const { rows } = await this.db.query<Checkpoint>(this.sql.head, [], PREPARED);
    return rows[0] ?? null;
  }

  /**
   * subscribe runs `handler` over every event after the subscriber's stored checkpoint (or
   * `options.from`), batch by batch, each batch in one transaction with the new checkpoint;
   * a failing batch is retried with backoff, so no event is lost or applied twice.
   */
  subscribe(name: string, handler: SubscriptionHandler, options: SubscribeOptions = {}): Subscription {
    if (this.closed) throw new Error('event store is closed');
    const subscription = new SqlSubscription(
      {
        db: this.db,
        readAll: (from, batchSize) => this.readAllWith(this.db, from, batchSize),
        head: () => this.head(),
        checkpointOf: (n) => this.checkpointOf(n),
        saveCheckpoint: async (tx, n, next, previous) =>
          (await tx.query(this.sql.saveCheckpoint, [n, next.tx, next.pos, previous.tx, previous.pos], PREPARED)).rows.length > 0,
        onStop: (s) => this.subscriptions.delete(s),
      },
      name,
      handler,
      options,
    );
    this.subscriptions.add(subscription);
    return subscription;
  }

  /** checkpointOf returns the stored checkpoint of subscriber `name`, or null if it never committed a batch. */
  async checkpointOf(name: string): Promise<Checkpoint | null> {
    const { rows } = await this.db.query<Checkpoint>(this.sql.checkpointOf, [name], PREPARED);
    return rows[0] ?? null;
  }

  /** onAppend calls `listener` whenever what this store appended becomes readable (see EventStore.onAppend). */
  onAppend(listener: () => void): () => void {
    return this.appendListeners.add(listener);
  }

  /** close stops this store's subscriptions (waiting for batches in flight); the database stays open for its owner. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.subscriptions].map((s) => s.stop()));
  }

  /** What a statement runs on: the caller's unit of work (a SQL transaction), else the database. */
  private executor(tx: UnitOfWork | undefined): SqlExecutor {
    return tx === undefined ? this.db : sqlOf(tx);
  }

  unitOfWork<T>(work: (tx: UnitOfWork) => Promise<T>): Promise<T> {
    return this.db.transaction(work);
  }

  /** Wakes the subscribers once what was appended is visible: at once, or when the caller's transaction commits. */
  private wakeAfter(tx: UnitOfWork | undefined): void {
    if (tx?.afterCommit) tx.afterCommit(() => this.wake());
    else this.wake();
  }

  private wake(): void {
    for (const subscription of this.subscriptions) subscription.wake();
    this.appendListeners.notify();
  }

  private toEvent(row: EventRow): CustosEvent {
    return {
      specversion: '1.0',
      id: row.event_id,
      source: this.source,
      type: row.type,
      subject: row.stream_id,
      time: row.time,
      datacontenttype: 'application/json',
      data: row.data,
      streamversion: row.stream_version,
      globalposition: row.global_position,
      correlationid: row.correlation_id,
      causationid: row.causation_id,
      actor: row.actor,
      name: row.name,
    };
  }
}

/**
 * sqlDatabaseOf is the database under a SQL adapter's store, for what keeps its own state beside
 * the events in the same database (the in-process bus's consumer checkpoints and dead letters):
 * a SQL adapter's own database, or the one a store of another kind keeps beside its events under
 * SQL_DATABASE (KurrentEventStore). It throws for a store with none.
 */
export function sqlDatabaseOf(store: EventStore): SqlDatabase {
  if (store instanceof SqlEventStore) return store.db;
  // A store of another kind that keeps a SQL database beside its events (KurrentEventStore).
  const beside = (store as Partial<Record<typeof SQL_DATABASE, SqlDatabase>>)[SQL_DATABASE];
  if (beside) return beside;
  throw new TypeError(`the ${store.context} store is not a SQL event store: it has no database to keep state beside its events`);
}
