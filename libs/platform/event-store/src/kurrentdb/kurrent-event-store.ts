import { AppendListeners } from '../append-listeners';
import { randomUUID } from 'node:crypto';
import {
  BACKWARDS,
  END,
  FORWARDS,
  type AllStreamResolvedEvent,
  type AppendResult as KurrentAppendResult,
  type AppendStreamRequest,
  type AppendToStreamOptions,
  type EventData,
  type MultiAppendResult,
  type ReadAllOptions,
  type ReadStreamOptions,
  type ResolvedEvent,
  type SubscribeToAllOptions,
} from '@kurrent/kurrentdb-client';
import { WrongExpectedVersionError, type AppendResult, type Checkpoint, type CustosEvent, type ExpectedVersion, type NewEvent } from '../event';
import type {
  AppendOptions,
  EventStore,
  ReadAllResult,
  ReadOptions,
  StreamWrite,
  SubscribeOptions,
  Subscription,
  SubscriptionHandler,
  UnitOfWork,
} from '../event-store';
import { SQL_DATABASE, type SqlDatabase, type SqlExecutor } from '../sql';
import { SqlSubscription } from '../sql-subscription';
import {
  deterministicEventId,
  isAfter,
  isKurrentWrongExpectedVersion,
  isStreamNotFound,
  isUnsupported,
  KurrentStreamNames,
  toCheckpoint,
  toCustosEvent,
  toEventData,
  toFromRevision,
  toReadPosition,
  toStreamState,
  toWrongExpectedVersion,
  versionOfRevision,
  type KurrentDraft,
} from './mapping';
import { KurrentUnit, KurrentUnitDatabase, type PendingWrite } from './unit-of-work';

/** What the adapter uses of `KurrentDBClient`: narrow, so that a test can stand in for a server. */
export interface KurrentClient {
  appendToStream(streamName: string, events: EventData[], options?: AppendToStreamOptions): Promise<KurrentAppendResult>;
  multiStreamAppend(requests: AppendStreamRequest[]): Promise<MultiAppendResult>;
  readStream(streamName: string, options?: ReadStreamOptions): AsyncIterableIterator<ResolvedEvent>;
  readAll(options?: ReadAllOptions): AsyncIterableIterator<AllStreamResolvedEvent>;
  subscribeToAll(options?: SubscribeToAllOptions): LiveFeed;
}

/** The part of a client's `$all` subscription the live feed uses. */
export interface LiveFeed {
  on(event: 'data', listener: (event: AllStreamResolvedEvent) => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
  unsubscribe(): Promise<void>;
}

export interface KurrentEventStoreOptions {
  /** A connected client (`KurrentDBClient.connectionString(url)`); it belongs to the caller, who disposes it. */
  client: KurrentClient;
  /** The SQL database beside KurrentDB that keeps the context's checkpoints, read models and inbox. */
  db: SqlDatabase;
  /** The bounded context (`identity`): names the CloudEvents source and type, and the stream prefix. */
  context: string;
  /** The schema of the checkpoints table in `db`. Default: the context's name (as the SQL store's schema). */
  schema?: string;
  /** The KurrentDB stream-name prefix of this context's streams. Default `custos.<context>.`. */
  streamPrefix?: string;
  /**
   * 'auto' (default): several streams in one unit of work or appendStreams are written with
   * KurrentDB's atomic multi-stream append (25.1+), falling back to one append per stream on an
   * older server; 'never': always one append per stream.
   */
  multiStreamAppend?: 'auto' | 'never';
  /** Follow `$all` live (a filtered KurrentDB subscription) to wake subscribers at once on any process's append. Default true. */
  liveFeed?: boolean;
  /** The clock that stamps events appended without a time. */
  clock?: () => Date;
}

const CONTEXT = /^[a-z][a-z0-9-]*$/;
const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;
const LIVE_FEED_RETRY_MS = 1_000;

function checkExpectedVersion(expected: ExpectedVersion): void {
  if (expected === 'any' || expected === 'no-stream') return;
  if (!Number.isSafeInteger(expected) || expected < 0) {
    throw new RangeError(`expected version must be 'any', 'no-stream' or an integer >= 0, got ${String(expected)}`);
  }
}

function numeric(expected: ExpectedVersion): number | null {
  return expected === 'any' ? null : expected === 'no-stream' ? 0 : expected;
}

/** One stream's share of a write to KurrentDB. */
interface Write {
  streamId: string;
  expected: ExpectedVersion;
  drafts: KurrentDraft[];
}

/**
 * KurrentEventStore is the event-store port on KurrentDB (formerly EventStoreDB), through
 * `@kurrent/kurrentdb-client`. Events live in KurrentDB; what a context keeps beside them (the
 * checkpoints of its subscribers, its read models, its inbox) lives in the SQL database given as
 * `db`, and the unit of work is a SQL transaction of it that carries the appends staged in it.
 *
 * Appends in a unit of work. KurrentDB and PostgreSQL cannot commit together, so a unit of work
 * that claims an inbox row (SQL) and appends events (KurrentDB) orders them: its appends are
 * staged, checked at once against the stream versions the unit knows (a stale version is refused
 * inside the unit, as on the SQL store), written to KurrentDB when the unit's work is done, and
 * only then is the SQL transaction committed. So:
 * - a unit that throws, or whose KurrentDB write is refused (a version conflict), writes nothing
 *   anywhere;
 * - nothing is lost: SQL never commits an inbox row or a checkpoint whose events are not stored;
 * - what can happen is the reverse, in the window between KurrentDB's acknowledgement and the SQL
 *   COMMIT (a crash, a lost connection): the events are stored, the unit's SQL writes are not, and
 *   the message or batch is retried. The retry must not store them twice: an event appended in a
 *   unit without an explicit id, by a known cause (`causationId`), gets an id derived from the
 *   context, the stream, the cause, its ordinal among that cause's events to that stream in the
 *   unit, and its name. The retry derives the same ids; an event whose id the unit has read from
 *   the stream (command handlers read before they decide) is not appended again, and KurrentDB's
 *   own idempotence on event ids drops an identical re-append at the same expected version.
 *   Limits: a retry decides on a stream that already holds its first attempt's events; an event it
 *   decides differently (another name, or beyond the first attempt's ordinals) is new and written.
 *   An 'any' append that did not read the stream relies on KurrentDB's best-effort id cache.
 * - Several streams in one unit are written with KurrentDB's multi-stream append (25.1+): all or
 *   nothing. On an older server they are written one stream after another: a conflict on a later
 *   stream leaves the earlier ones written while SQL rolls back, which the retry then finds as above.
 * - Inside a unit, appended events carry their stream version at once and their global position
 *   (and, for 'any', their final version) once the unit has written them: the objects handed back
 *   are completed in place before the SQL COMMIT.
 * A unit of work is opened by `unitOfWork`, or by `db.transaction` on this store's `db` (which the
 * runtime uses as the context's database); a SQL transaction opened elsewhere is refused.
 */
export class KurrentEventStore implements EventStore {
  /** The context's SQL database as the runtime should use it: its transactions are units of work of this store. */
  readonly db: KurrentUnitDatabase;
  readonly names: KurrentStreamNames;
  readonly schema: string;
  private readonly client: KurrentClient;
  private readonly source: string;
  private readonly clock: () => Date;
  private readonly checkpoints: string;
  private readonly subscriptions = new Set<SqlSubscription>();
  private readonly appendListeners = new AppendListeners();
  private multiStream: boolean;
  private live: { feed: LiveFeed | null; retry: NodeJS.Timeout | null } | null = null;
  private closed = false;

  private constructor(
    readonly context: string,
    private readonly options: KurrentEventStoreOptions,
  ) {
    this.client = options.client;
    this.schema = options.schema ?? context.replace(/-/g, '_');
    this.names = new KurrentStreamNames(context, options.streamPrefix);
    this.source = `/custos/${context}`;
    this.clock = options.clock ?? (() => new Date());
    this.checkpoints = `"${this.schema}".kurrent_checkpoints`;
    this.multiStream = options.multiStreamAppend !== 'never';
    this.db = new KurrentUnitDatabase(options.db, this, (unit) => this.flush(unit));
  }

  /** open creates the checkpoints table if it is missing and returns the store; it never changes data. */
  static async open(options: KurrentEventStoreOptions): Promise<KurrentEventStore> {
    if (!CONTEXT.test(options.context)) {
      throw new RangeError(`context must be lower-case letters, digits and dashes, got ${JSON.stringify(options.context)}`);
    }
    const store = new KurrentEventStore(options.context, options);
    if (!IDENTIFIER.test(store.schema)) throw new RangeError(`schema must be a lower-case SQL identifier, got ${JSON.stringify(store.schema)}`);
    await options.db.transaction(async (tx) => {
      await tx.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [`custos.kurrent-checkpoints.${store.schema}`]);
      await tx.query(`CREATE SCHEMA IF NOT EXISTS "${store.schema}"`);
      await tx.query(`CREATE TABLE IF NOT EXISTS ${store.checkpoints} (
        name text PRIMARY KEY,
        commit_position bigint NOT NULL,
        prepare_position bigint NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    });
    return store;
  }

  /** The SQL database beside the events (for the in-process bus's consumer checkpoints; see sqlDatabaseOf). */
  get [SQL_DATABASE](): SqlDatabase {
    return this.db;
  }

  unitOfWork<T>(work: (tx: UnitOfWork) => Promise<T>): Promise<T> {
    return this.db.transaction(work);
  }

  async append(streamId: string, events: NewEvent[], expectedVersion: ExpectedVersion, options: AppendOptions = {}): Promise<AppendResult> {
    checkExpectedVersion(expectedVersion);
    const unit = this.unitOf(options.tx);
    if (unit) return this.stage(unit, streamId, events, expectedVersion);
    if (events.length === 0) return this.checkOnly(streamId, expectedVersion);
    const [stored] = await this.write([{ streamId, expected: expectedVersion, drafts: events.map((e) => this.draft(e)) }]);
    this.wake();
    return { nextVersion: stored[stored.length - 1].streamversion, globalPosition: stored[stored.length - 1].globalposition, events: stored };
  }

  /**
   * appendStreams writes several streams at their expected versions: atomically with KurrentDB's
   * multi-stream append (25.1+), else one stream after another, in which case a conflict on a later
   * stream leaves the earlier ones written (a weaker guarantee than the port's; see the class).
   */
  async appendStreams(writes: StreamWrite[], options: AppendOptions = {}): Promise<CustosEvent[][]> {
    const seen = new Set<string>();
    for (const write of writes) {
      if (seen.has(write.streamId)) throw new RangeError(`appendStreams: stream ${write.streamId} appears twice`);
      seen.add(write.streamId);
      checkExpectedVersion(write.expectedVersion);
    }
    const unit = this.unitOf(options.tx);
    if (unit) {
      // Checked and staged stream by stream: the first stale version refuses before anything is staged.
      for (const write of writes) await this.checkStaged(unit, write.streamId, write.expectedVersion);
      const results: CustosEvent[][] = [];
      for (const write of writes) results.push((await this.stage(unit, write.streamId, write.events, write.expectedVersion)).events);
      return results;
    }
    const nonEmpty = writes.filter((w) => w.events.length > 0);
    for (const write of writes.filter((w) => w.events.length === 0)) await this.checkOnly(write.streamId, write.expectedVersion);
    if (nonEmpty.length === 0) return writes.map(() => []);
    const stored = await this.write(nonEmpty.map((w) => ({ streamId: w.streamId, expected: w.expectedVersion, drafts: w.events.map((e) => this.draft(e)) })));
    this.wake();
    const byStream = new Map(nonEmpty.map((w, i) => [w.streamId, stored[i]]));
    return writes.map((w) => byStream.get(w.streamId) ?? []);
  }

  async readStream(streamId: string, fromVersion = 1, options: ReadOptions = {}): Promise<CustosEvent[]> {
    const unit = this.unitOf(options.tx);
    const stored = await this.readFromKurrent(streamId, fromVersion);
    if (!unit) return stored;
    unit.remember(streamId, stored);
    const pending = unit.pending.get(streamId);
    if (!pending && fromVersion <= 1) unit.versions.set(streamId, stored.length);
    // What the unit has staged is part of what it reads, as in a SQL transaction.
    return pending ? [...stored, ...pending.events.filter((e) => e.streamversion >= fromVersion)] : stored;
  }

  async readStreams(streamIds: string[], options: ReadOptions = {}): Promise<Map<string, CustosEvent[]>> {
    const read = await Promise.all(streamIds.map((id) => this.readStream(id, 1, options)));
    return new Map(streamIds.map((id, i) => [id, read[i]]));
  }

  /**
   * readAll returns up to `batchSize` of this context's events after `from` in `$all` order,
   * filtered on the server by the context's stream prefix. KurrentDB makes an event readable in
   * `$all` only once it is committed, at a position after every event committed before it, so a
   * reader advancing by position never steps over one.
   */
  async readAll(from: Checkpoint, batchSize: number): Promise<ReadAllResult> {
    if (!Number.isSafeInteger(batchSize) || batchSize <= 0) throw new RangeError(`batchSize must be a positive integer, got ${batchSize}`);
    // A read from a position may include the event at it: ask for one more and drop what is not after `from`.
    const events: CustosEvent[] = [];
    let checkpoint = from;
    for await (const resolved of this.client.readAll({ fromPosition: toReadPosition(from), maxCount: batchSize + 1, direction: FORWARDS, filter: this.names.filter() })) {
      const recorded = resolved.event;
      if (!recorded || !isAfter(recorded.position, from)) continue;
      if (this.names.toCustos(recorded.streamId) === null) continue;
      if (events.length === batchSize) break;
      events.push(toCustosEvent(recorded, this.names, this.context));
      checkpoint = toCheckpoint(recorded.position);
    }
    return { events, checkpoint };
  }

  async head(): Promise<Checkpoint | null> {
    for await (const resolved of this.client.readAll({ fromPosition: END, maxCount: 1, direction: BACKWARDS, filter: this.names.filter() })) {
      if (resolved.event) return toCheckpoint(resolved.event.position);
    }
    return null;
  }

  /**
   * subscribe follows this context's events from the subscriber's checkpoint (kept in the SQL
   * database, or `options.from`): it catches up in `readAll` batches, then goes on live, woken by
   * this store's appends and by a filtered KurrentDB subscription to `$all` (any process's
   * appends), and polls as a fallback. Each batch is handled in a unit of work that also saves the
   * checkpoint (SQL), so the handler's SQL writes and the checkpoint commit together; its appends
   * are written to KurrentDB before that commit.
   */
  subscribe(name: string, handler: SubscriptionHandler, options: SubscribeOptions = {}): Subscription {
    if (this.closed) throw new Error('event store is closed');
    const subscription = new SqlSubscription(
      {
        db: this.db,
        readAll: (from, batchSize) => this.readAll(from, batchSize),
        head: () => this.head(),
        checkpointOf: (n) => this.checkpointOf(n),
        saveCheckpoint: (tx, n, next, previous) => this.saveCheckpoint(tx, n, next, previous),
        onStop: (s) => {
          this.subscriptions.delete(s);
          if (this.subscriptions.size === 0) void this.stopLiveFeed();
        },
      },
      name,
      handler,
      options,
    );
    this.subscriptions.add(subscription);
    this.startLiveFeed();
    return subscription;
  }

  async checkpointOf(name: string): Promise<Checkpoint | null> {
    const { rows } = await this.options.db.query<Checkpoint>(
      `SELECT commit_position::text AS tx, prepare_position::text AS pos FROM ${this.checkpoints} WHERE name = $1`,
      [name],
    );
    return rows[0] ?? null;
  }

  /** Stores `next` if the stored checkpoint is still `previous` (or absent); false when another process moved it. */
  async saveCheckpoint(tx: SqlExecutor, name: string, next: Checkpoint, previous: Checkpoint): Promise<boolean> {
    const { rows } = await tx.query(
      `INSERT INTO ${this.checkpoints} AS c (name, commit_position, prepare_position, updated_at)
        VALUES ($1, $2::bigint, $3::bigint, now())
        ON CONFLICT (name) DO UPDATE SET commit_position = excluded.commit_position, prepare_position = excluded.prepare_position, updated_at = excluded.updated_at
        WHERE (c.commit_position, c.prepare_position) = ($4::bigint, $5::bigint)
        RETURNING 1 AS saved`,
      [name, next.tx, next.pos, previous.tx, previous.pos],
    );
    return rows.length > 0;
  }

  onAppend(listener: () => void): () => void {
    return this.appendListeners.add(listener);
  }

  /** close stops the subscriptions and the live feed; the client and the SQL database belong to their opener. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.subscriptions].map((s) => s.stop()));
    await this.stopLiveFeed();
  }

  // --- units of work ---------------------------------------------------------------------------

  /** The unit of work `tx` is, or null for none (the store's database itself counts as none). */
  private unitOf(tx: UnitOfWork | undefined): KurrentUnit | null {
    if (tx === undefined || tx === this.db) return null;
    if (tx instanceof KurrentUnit && tx.owner === this) return tx;
    throw new TypeError(
      `the ${this.context} KurrentDB store can only append and read inside its own units of work (store.unitOfWork, or a transaction of store.db): a transaction opened elsewhere cannot carry its appends to KurrentDB`,
    );
  }

  /** Refuses a stale expected version inside a unit, against the version the unit knows (read once if it knows none). */
  private async checkStaged(unit: KurrentUnit, streamId: string, expectedVersion: ExpectedVersion): Promise<number> {
    let current = unit.versions.get(streamId);
    if (current === undefined) {
      current = await this.versionOf(streamId);
      unit.versions.set(streamId, current);
    }
    const expected = numeric(expectedVersion);
    if (expected !== null && expected !== current) throw new WrongExpectedVersionError(streamId, expectedVersion, current);
    return current;
  }

  private async stage(unit: KurrentUnit, streamId: string, events: NewEvent[], expectedVersion: ExpectedVersion): Promise<AppendResult> {
    const current = await this.checkStaged(unit, streamId, expectedVersion);
    const drafts = events.map((event) => this.draft(event, unit, streamId));
    const known = unit.stored.get(streamId);
    const already = known ? drafts.flatMap((d) => (known.has(d.id) ? [known.get(d.id)!] : [])) : [];
    const fresh = known ? drafts.filter((d) => !known.has(d.id)) : drafts;
    if (fresh.length === 0) {
      // Nothing new: an empty append, or a retried unit finding what its first attempt stored.
      const last = already[already.length - 1];
      return { nextVersion: current, globalPosition: last?.globalposition ?? '', events: already };
    }
    let pending = unit.pending.get(streamId);
    if (!pending) {
      pending = { streamId, expected: expectedVersion, baseVersion: current, drafts: [], events: [], results: [] };
      unit.pending.set(streamId, pending);
    } else if (pending.expected === 'any' && expectedVersion !== 'any') {
      // A numeric expectation after an 'any' one pins the whole write to the version first seen.
      pending.expected = pending.baseVersion === 0 ? 'no-stream' : pending.baseVersion;
    }
    const staged = fresh.map((draft, i) => this.envelope(streamId, draft, current + i + 1, ''));
    pending.drafts.push(...fresh);
    pending.events.push(...staged);
    unit.versions.set(streamId, current + fresh.length);
    const result: AppendResult = { nextVersion: current + fresh.length, globalPosition: '', events: [...already, ...staged] };
    pending.results.push(result);
    unit.afterCommit(() => this.wake());
    return result;
  }

  /** Writes what a unit staged, before its SQL transaction commits; a refusal throws and SQL rolls back. */
  private async flush(unit: KurrentUnit): Promise<void> {
    const pending = [...unit.pending.values()];
    if (pending.length === 0) return;
    const stored = await this.write(pending.map((p) => ({ streamId: p.streamId, expected: p.expected, drafts: p.drafts })));
    pending.forEach((p, i) => complete(p, stored[i]));
  }

  // --- KurrentDB -------------------------------------------------------------------------------

  /**
   * Writes one or more streams and returns their stored events (read back: each event's own
   * position is known only from a read). Several streams go in one multi-stream append when the
   * server has it.
   */
  private async write(writes: Write[]): Promise<CustosEvent[][]> {
    const expectedOf = (id: string) => writes.find((w) => w.streamId === id)?.expected;
    const lastRevisions: bigint[] = [];
    if (writes.length > 1 && this.multiStream) {
      try {
        const result = await this.client.multiStreamAppend(
          writes.map((w) => ({
            streamName: this.names.toKurrent(w.streamId),
            expectedState: toStreamState(w.expected),
            events: w.drafts.map((d) => toEventData(d, this.context, w.streamId)),
          })),
        );
        const byName = new Map(result.responses.map((r) => [r.streamName, r.revision]));
        for (const w of writes) lastRevisions.push(byName.get(this.names.toKurrent(w.streamId)) ?? -1n);
      } catch (error) {
        if (isKurrentWrongExpectedVersion(error)) throw toWrongExpectedVersion(error, { streamId: writes[0].streamId, expected: writes[0].expected }, this.names, expectedOf);
        if (!isUnsupported(error)) throw error;
        // A server before 25.1: one append per stream from now on.
        this.multiStream = false;
      }
    }
    if (lastRevisions.length === 0) {
      for (const w of writes) {
        try {
          const result = await this.client.appendToStream(
            this.names.toKurrent(w.streamId),
            w.drafts.map((d) => toEventData(d, this.context, w.streamId)),
            { streamState: toStreamState(w.expected) },
          );
          lastRevisions.push(result.nextExpectedRevision);
        } catch (error) {
          if (isKurrentWrongExpectedVersion(error)) throw toWrongExpectedVersion(error, { streamId: w.streamId, expected: w.expected }, this.names, expectedOf);
          throw error;
        }
      }
    }
    return Promise.all(writes.map((w, i) => this.readBack(w, lastRevisions[i])));
  }

  /** The stored events of a write that ended at `lastRevision`, matched by id (an idempotent re-append ends earlier). */
  private async readBack(write: Write, lastRevision: bigint): Promise<CustosEvent[]> {
    const ids = write.drafts.map((d) => d.id);
    const firstVersion = versionOfRevision(lastRevision) - ids.length + 1;
    let read = firstVersion >= 1 ? await this.readFromKurrent(write.streamId, firstVersion, ids.length) : [];
    if (read.map((e) => e.id).join() !== ids.join()) {
      const wanted = new Set(ids);
      read = (await this.readFromKurrent(write.streamId, 1)).filter((e) => wanted.has(e.id));
    }
    if (read.length !== ids.length) throw new Error(`KurrentDB acknowledged an append to ${write.streamId} whose events cannot be read back`);
    return read;
  }

  private async readFromKurrent(streamId: string, fromVersion: number, maxCount?: number): Promise<CustosEvent[]> {
    const events: CustosEvent[] = [];
    try {
      for await (const resolved of this.client.readStream(this.names.toKurrent(streamId), {
        fromRevision: toFromRevision(fromVersion),
        direction: FORWARDS,
        ...(maxCount === undefined ? {} : { maxCount }),
      })) {
        if (resolved.event) events.push(toCustosEvent(resolved.event, this.names, this.context));
      }
    } catch (error) {
      if (isStreamNotFound(error)) return [];
      throw error;
    }
    return events;
  }

  /** The stream's current version (0 when it does not exist). */
  private async versionOf(streamId: string): Promise<number> {
    try {
      for await (const resolved of this.client.readStream(this.names.toKurrent(streamId), { fromRevision: END, direction: BACKWARDS, maxCount: 1 })) {
        if (resolved.event) return versionOfRevision(resolved.event.revision);
      }
    } catch (error) {
      if (!isStreamNotFound(error)) throw error;
    }
    return 0;
  }

  private async checkOnly(streamId: string, expectedVersion: ExpectedVersion): Promise<AppendResult> {
    const version = await this.versionOf(streamId);
    const expected = numeric(expectedVersion);
    if (expected !== null && expected !== version) throw new WrongExpectedVersionError(streamId, expectedVersion, version);
    const last = version > 0 ? (await this.readFromKurrent(streamId, version, 1))[0] : undefined;
    return { nextVersion: version, globalPosition: last?.globalposition ?? '0', events: [] };
  }

  private draft(event: NewEvent, unit?: KurrentUnit, streamId?: string): KurrentDraft {
    const id =
      event.id ??
      (unit && streamId !== undefined && event.causationId !== undefined
        ? deterministicEventId({ context: this.context, streamId, causationId: event.causationId, ordinal: unit.nextOrdinal(event.causationId, streamId), name: event.name })
        : randomUUID());
    const correlationId = event.correlationId ?? id;
    return {
      id,
      name: event.name,
      type: `custos.${this.context}.${event.name}.v${event.version ?? 1}`,
      data: event.data ?? null,
      time: event.time ?? this.clock().toISOString(),
      correlationId,
      causationId: event.causationId ?? correlationId,
      actor: event.actor,
    };
  }

  private envelope(streamId: string, d: KurrentDraft, version: number, position: string): CustosEvent {
    return {
      specversion: '1.0',
      id: d.id,
      source: this.source,
      type: d.type,
      subject: streamId,
      time: d.time,
      datacontenttype: 'application/json',
      data: d.data,
      streamversion: version,
      globalposition: position,
      correlationid: d.correlationId,
      causationid: d.causationId,
      actor: d.actor,
      name: d.name,
    };
  }

  // --- waking readers --------------------------------------------------------------------------

  private wake(): void {
    for (const subscription of this.subscriptions) subscription.wake();
    this.appendListeners.notify();
  }

  /** A filtered subscription to `$all` from its end: each event of this context wakes the subscribers. Polling covers its failures. */
  private startLiveFeed(): void {
    if (this.options.liveFeed === false || this.closed || this.live?.feed || this.live?.retry) return;
    this.live ??= { feed: null, retry: null };
    const live = this.live;
    try {
      const feed = this.client.subscribeToAll({ fromPosition: END, filter: this.names.filter() });
      live.feed = feed;
      feed.on('data', () => {
        for (const subscription of this.subscriptions) subscription.wake();
      });
      feed.on('error', () => {
        if (live.feed !== feed) return;
        live.feed = null;
        if (this.closed || this.subscriptions.size === 0) return;
        live.retry = setTimeout(() => {
          live.retry = null;
          this.startLiveFeed();
        }, LIVE_FEED_RETRY_MS);
      });
    } catch {
      live.feed = null;
    }
  }

  private async stopLiveFeed(): Promise<void> {
    const live = this.live;
    this.live = null;
    if (!live) return;
    if (live.retry) clearTimeout(live.retry);
    await live.feed?.unsubscribe().catch(() => undefined);
  }
}

/** Completes a unit's staged envelopes and results with what KurrentDB stored. */
function complete(pending: PendingWrite, stored: CustosEvent[]): void {
  pending.events.forEach((event, i) => {
    event.streamversion = stored[i].streamversion;
    event.globalposition = stored[i].globalposition;
  });
  for (const result of pending.results) {
    const last = result.events[result.events.length - 1];
    result.nextVersion = last.streamversion;
    result.globalPosition = last.globalposition;
  }
}
