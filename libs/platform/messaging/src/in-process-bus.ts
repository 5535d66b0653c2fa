import { sqlDatabaseOf, START, type Checkpoint, type CustosEvent, type EventStore, type SqlDatabase, type SqlExecutor } from '@custos/platform/event-store';
import { RpcError, type ConsumeOptions, type Consumer, type DeadLetter, type MessageBus, type Relay, type RpcHandler, type RpcOptions } from './bus';
import { eventNameOf } from './naming';
import { ReadPacer } from './read-pacer';
import { DEFAULT_MAX_BATCH, DEFAULT_MAX_DELIVER, DEFAULT_RETRY_DELAY_MS, errorText, nonNegative, positiveInteger, retryDelay } from './retry-delay';
import { roundTripJson, rpcErrorBody, rpcErrorFromBody, type RpcErrorBody } from './rpc-envelope';

export interface InProcessBusOptions {
  /** What bus instances in one process share, as NATS connections share a server. Default: a hub of this bus alone. */
  hub?: InProcessHub;
  /** Schema (in each store's database) of the consumer checkpoints and dead letters. Default `custos_bus`. */
  schema?: string;
  /** How often an idle consumer looks for events appended by other processes; an append through a store of this process wakes it at once. Default 50 ms. */
  pollIntervalMs?: number;
  /** Events read per consumer batch; the checkpoint commits once per batch. Default 100. */
  batchSize?: number;
  /** Told about failures a consumer recovers from by retrying, for logging. */
  onError?: (error: unknown, where: string) => void;
}

interface GroupSettings {
  context: string;
  durable: string;
  names: ReadonlySet<string> | undefined;
  maxDeliver: number;
  retryDelayMs: number;
  /** Events per batch handler call; undefined when the members have no batch handler. */
  maxBatch: number | undefined;
  /** A background consumer's linger (ConsumeOptions.lingerMs); 0 reads at once. */
  lingerMs: number;
}

interface Member {
  handler: ConsumeOptions['handler'];
  batchHandler: ConsumeOptions['batchHandler'];
}

const IDENTIFIER = /^[a-z_][a-z0-9_]*$/;
const TIMED_OUT = Symbol('timed out');
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
/** How long a busy consumer lets its next batch fill (see ReadPacer); an idle one reads at once. */
const BUSY_LINGER_MS = 15;

/**
 * InProcessHub is the meeting point of the bus instances of one process (one per service in the
 * embedded launcher): registered stores, RPC servers, and one reader per durable, which every
 * consumer using that durable shares like replicas pulling from one JetStream durable.
 */
export class InProcessHub {
  readonly stores = new Map<string, { store: EventStore; relays: number }>();
  readonly storeWaiters = new Map<string, Array<(store: EventStore) => void>>();
  readonly servers = new Map<string, RpcServer[]>();
  readonly nextServer = new Map<string, number>();
  readonly groups = new WeakMap<EventStore, Map<string, ConsumerGroup>>();
}

/**
 * InProcessBus is the embedded MessageBus (all services in one process). Nothing is published:
 * a consumer reads the producing context's store directly and keeps its own checkpoint there,
 * so a crash loses no event and a committed batch is never handled again.
 */
export class InProcessBus implements MessageBus {
  readonly kind = 'in-process' as const;
  private readonly hub: InProcessHub;
  private readonly consumers = new Set<Consumer>();
  private readonly relays = new Set<Relay>();
  private readonly serving = new Set<{ stop(): Promise<void> }>();
  private readonly waiting = new Set<(store: EventStore) => void>();
  private readonly tables: BusTables;
  private closed = false;

  constructor(private readonly options: InProcessBusOptions = {}) {
    this.hub = options.hub ?? new InProcessHub();
    this.tables = new BusTables(options.schema ?? 'custos_bus');
  }

  /** startRelay registers `store` as its context's source of events; the events are already durable there, so nothing is copied. */
  async startRelay(store: EventStore): Promise<Relay> {
    if (this.closed) throw new Error('bus is closed');
    const registered = this.hub.stores.get(store.context);
    if (registered && registered.store !== store) throw new Error(`a different store is already registered for context ${store.context}`);
    if (registered) registered.relays++;
    else this.hub.stores.set(store.context, { store, relays: 1 });
    for (const join of this.hub.storeWaiters.get(store.context) ?? []) join(store);
    this.hub.storeWaiters.delete(store.context);
    let stopped = false;
    const relay: Relay = {
      caughtUp: async () => undefined,
      stop: async () => {
        if (stopped) return;
        stopped = true;
        this.relays.delete(relay);
        const entry = this.hub.stores.get(store.context);
        if (entry?.store === store && --entry.relays === 0) this.hub.stores.delete(store.context);
      },
    };
    this.relays.add(relay);
    return relay;
  }

  /**
   * consume follows the context's store from this durable's checkpoint (waiting until the store
   * is registered), hands each matching event to the handler in commit order, retries a failing
   * event up to maxDeliver times, then records it in `<schema>.dead_letters` and moves on. With a
   * `batchHandler`, the matching events of each read go to it together (maxBatch at a time); a
   * batch that fails is handed to `handler` one event at a time, as without one.
   */
  async consume(options: ConsumeOptions): Promise<Consumer> {
    if (this.closed) throw new Error('bus is closed');
    const maxBatch = positiveInteger('maxBatch', options.maxBatch ?? DEFAULT_MAX_BATCH);
    const settings: GroupSettings = {
      context: options.context,
      durable: options.durable,
      names: options.eventNames && options.eventNames.length > 0 ? new Set(options.eventNames) : undefined,
      maxDeliver: positiveInteger('maxDeliver', options.maxDeliver ?? DEFAULT_MAX_DELIVER),
      retryDelayMs: options.retryDelayMs ?? DEFAULT_RETRY_DELAY_MS,
      maxBatch: options.batchHandler ? maxBatch : undefined,
      lingerMs: nonNegative('lingerMs', options.lingerMs ?? 0),
    };
    const member: Member = { handler: options.handler, batchHandler: options.batchHandler };
    let stopped = false;
    let group: ConsumerGroup | undefined;
    const join = (store: EventStore) => {
      if (stopped) return;
      group = this.groupFor(store, settings);
      group.add(member);
    };
    const registered = this.hub.stores.get(options.context);
    // Joining now, when possible, lets a conflicting configuration fail the call itself.
    if (registered) join(registered.store);
    else this.waitForStore(options.context, join);

    const consumer: Consumer = {
      stop: async () => {
        stopped = true;
        this.consumers.delete(consumer);
        await group?.remove(member);
      },
    };
    this.consumers.add(consumer);
    return consumer;
  }

  private waitForStore(context: string, join: (store: EventStore) => void): void {
    const waiters = this.hub.storeWaiters.get(context) ?? [];
    const once = (store: EventStore) => {
      this.waiting.delete(once);
      join(store);
    };
    waiters.push(once);
    this.waiting.add(once);
    this.hub.storeWaiters.set(context, waiters);
  }

  private groupFor(store: EventStore, settings: GroupSettings): ConsumerGroup {
    let groups = this.hub.groups.get(store);
    if (!groups) {
      groups = new Map();
      this.hub.groups.set(store, groups);
    }
    const existing = groups.get(settings.durable);
    if (existing) {
      existing.assertSameSettings(settings);
      return existing;
    }
    const created = new ConsumerGroup(store, settings, this.tables, {
      pollIntervalMs: this.options.pollIntervalMs ?? 50,
      batchSize: this.options.batchSize ?? 100,
      onError: (error) => this.options.onError?.(error, `consumer ${settings.durable}`),
      onIdle: () => {
        if (groups.get(settings.durable) === created) groups.delete(settings.durable);
      },
    });
    groups.set(settings.durable, created);
    return created;
  }

  /** deadLetters lists, oldest first, the events this durable gave up on in every store registered with the hub. */
  async deadLetters(durable: string): Promise<DeadLetter[]> {
    const letters: DeadLetter[] = [];
    for (const { store } of this.hub.stores.values()) letters.push(...(await this.tables.deadLetters(store, durable)));
    return letters.sort((a, b) => a.deadAt.localeCompare(b.deadAt));
  }

  /** serve registers a handler with the hub; several on one subject take requests in turn, like a queue group. */
  async serve(subject: string, handler: RpcHandler): Promise<{ stop(): Promise<void> }> {
    if (this.closed) throw new Error('bus is closed');
    const server: RpcServer = { handler, inflight: new Set() };
    const servers = this.hub.servers;
    servers.set(subject, [...(servers.get(subject) ?? []), server]);
    const registration = {
      stop: async () => {
        this.serving.delete(registration);
        servers.set(subject, (servers.get(subject) ?? []).filter((s) => s !== server));
        await Promise.allSettled([...server.inflight]);
      },
    };
    this.serving.add(registration);
    return registration;
  }

  /** request calls a served handler with a JSON copy of the payload; a thrown error, no handler (503) or timeout (504) is an RpcError. */
  async request<T = unknown>(subject: string, payload: unknown, options?: RpcOptions): Promise<T> {
    if (this.closed) throw new Error('bus is closed');
    const servers = this.hub.servers.get(subject) ?? [];
    if (servers.length === 0) throw new RpcError(subject, 503, `no service answers ${subject}`);
    const turn = this.hub.nextServer.get(subject) ?? 0;
    this.hub.nextServer.set(subject, turn + 1);
    const server = servers[turn % servers.length];
    const timeoutMs = options?.timeoutMs ?? 5_000;

    const call = (async () => roundTripJson(await server.handler(roundTripJson(payload))))();
    server.inflight.add(call);
    void call.catch(() => undefined).finally(() => server.inflight.delete(call));
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<typeof TIMED_OUT>((resolve) => {
      timer = setTimeout(() => resolve(TIMED_OUT), timeoutMs);
    });
    let answer: unknown;
    try {
      answer = await Promise.race([call, timeout]);
    } catch (error) {
      throw rpcErrorFromBody(subject, roundTripJson(rpcErrorBody(error)) as RpcErrorBody);
    } finally {
      clearTimeout(timer);
    }
    if (answer === TIMED_OUT) throw new RpcError(subject, 504, `no answer on ${subject} within ${timeoutMs} ms`);
    return answer as T;
  }

  /** health is ok until close. */
  async health(): Promise<{ ok: boolean; detail: string }> {
    if (this.closed) return { ok: false, detail: 'in-process bus: closed' };
    const contexts = [...this.hub.stores.keys()].sort().join(', ') || 'none';
    return { ok: true, detail: `in-process bus: stores for ${contexts}; ${this.consumers.size} consumers` };
  }

  /** close stops this bus's consumers (each after committing the batch in hand), servers and relays; other buses on the hub carry on. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const [context, waiters] of this.hub.storeWaiters) {
      this.hub.storeWaiters.set(context, waiters.filter((w) => !this.waiting.has(w)));
    }
    await Promise.allSettled([...this.consumers].map((c) => c.stop()));
    await Promise.allSettled([...this.serving].map((s) => s.stop()));
    await Promise.allSettled([...this.relays].map((r) => r.stop()));
  }
}

interface RpcServer {
  handler: RpcHandler;
  inflight: Set<Promise<unknown>>;
}

interface GroupRuntime {
  pollIntervalMs: number;
  batchSize: number;
  onError: (error: unknown) => void;
  onIdle: () => void;
}

/**
 * One reader per durable. It deliberately does not use `store.subscribe`: that runs its handler
 * inside a transaction, and on PGlite (one connection) a consumer handler that writes to the same
 * database would wait forever for that transaction to end. The handler runs outside any
 * transaction; the checkpoint (and any dead letters) commit right after each batch.
 */
class ConsumerGroup {
  private readonly members: Member[] = [];
  // The last member keeps handling the batch in hand after every member left: stop finishes it.
  private lastMember: Member | undefined;
  private turn = 0;
  private running: Promise<void> | undefined;
  private stopping = false;
  private wake: (() => void) | undefined;
  private readonly pacer: ReadPacer;
  private unlisten: (() => void) | undefined;

  constructor(
    private readonly store: EventStore,
    private readonly settings: GroupSettings,
    private readonly tables: BusTables,
    private readonly runtime: GroupRuntime,
  ) {
    this.pacer = new ReadPacer(runtime.pollIntervalMs, BUSY_LINGER_MS);
  }

  assertSameSettings(other: GroupSettings): void {
    const same =
      other.context === this.settings.context &&
      other.maxDeliver === this.settings.maxDeliver &&
      other.maxBatch === this.settings.maxBatch &&
      other.lingerMs === this.settings.lingerMs &&
      [...(other.names ?? [])].sort().join() === [...(this.settings.names ?? [])].sort().join();
    if (!same) throw new Error(`durable ${other.durable} is already consuming ${this.settings.context} with other options`);
  }

  add(member: Member): void {
    this.members.push(member);
    // A member joining while the last one leaves keeps the reader alive (see run's finally).
    this.stopping = false;
    this.running ??= this.run();
  }

  async remove(member: Member): Promise<void> {
    const index = this.members.indexOf(member);
    if (index >= 0) this.members.splice(index, 1);
    const running = this.running;
    if (this.members.length > 0 || !running) return;
    this.stopping = true;
    this.wake?.();
    this.pacer.interrupt();
    await running;
  }

  private get consumerKey(): string {
    return `consumer:${this.settings.durable}`;
  }

  /**
   * run follows the store from the stored checkpoint, paced by a ReadPacer: an append of this
   * process wakes it at once; when more was appended while a batch was handled (a busy store), the
   * next read waits up to BUSY_LINGER_MS so that it gathers a fuller batch.
   */
  private async run(): Promise<void> {
    this.unlisten ??= this.store.onAppend?.(() => this.pacer.wake());
    try {
      while (!this.stopping) {
        try {
          await this.tables.ensure(sqlDatabaseOf(this.store));
          let stored = await this.tables.checkpoint(sqlDatabaseOf(this.store), this.settings.context, this.consumerKey);
          let checkpoint = stored ?? START;
          while (!this.stopping) {
            this.pacer.reading();
            let batch = await this.store.readAll(checkpoint, this.runtime.batchSize);
            if (batch.events.length === 0) {
              if (!this.stopping) await this.pacer.idle(0);
              continue;
            }
            if (this.settings.lingerMs > 0 && batch.events.length < this.runtime.batchSize && !this.stopping) {
              // A background consumer: what is appended within the linger joins this batch (read again once it is over).
              await sleep(this.settings.lingerMs);
              batch = await this.store.readAll(checkpoint, this.runtime.batchSize);
            }
            const names = this.settings.names;
            const matching = names ? batch.events.filter((event) => names.has(eventNameOf(event))) : batch.events;
            const deadLetters: DeadLetter[] = [];
            const size = this.settings.maxBatch ?? 1;
            for (let start = 0; start < matching.length; start += size) {
              deadLetters.push(...(await this.handleChunk(matching.slice(start, start + size))));
            }
            // A batch is finished even when stop was asked midway: its checkpoint can only cover it whole.
            await this.tables.commit(sqlDatabaseOf(this.store), this.settings.context, this.consumerKey, stored, batch.checkpoint, deadLetters);
            checkpoint = stored = batch.checkpoint;
            // A full batch means a backlog: read on at once. Else as the pacer says (busy: let the next batch fill).
            if (batch.events.length < this.runtime.batchSize && !this.stopping) await this.pacer.idle(batch.events.length);
          }
        } catch (error) {
          if (error instanceof CheckpointMoved) continue;
          // Resume from the last committed checkpoint: the uncommitted batch is handled again (at least once).
          this.runtime.onError(error);
          if (!this.stopping) await this.idle();
        }
      }
    } finally {
      this.running = undefined;
      if (this.members.length > 0) this.running = this.run();
      else {
        this.unlisten?.();
        this.unlisten = undefined;
        this.runtime.onIdle();
      }
    }
  }

  /**
   * handleChunk hands several events to a member's batch handler at once; when that throws (or
   * for a single event, where it would add nothing but a second attempt), each goes to `handle`.
   */
  private async handleChunk(events: CustosEvent[]): Promise<DeadLetter[]> {
    const member = events.length > 1 ? this.nextMember() : undefined;
    if (member?.batchHandler) {
      try {
        await member.batchHandler(events);
        return [];
      } catch (error) {
        this.runtime.onError(error);
      }
    }
    const deadLetters: DeadLetter[] = [];
    for (const event of events) {
      const letter = await this.handle(event);
      if (letter) deadLetters.push(letter);
    }
    return deadLetters;
  }

  private async handle(event: CustosEvent): Promise<DeadLetter | undefined> {
    let lastError: unknown;
    for (let attempt = 1; attempt <= this.settings.maxDeliver; attempt++) {
      // Each attempt goes to the next member, as a redelivery may reach another replica.
      const member = this.nextMember();
      try {
        await member.handler(event);
        return undefined;
      } catch (error) {
        lastError = error;
        if (attempt < this.settings.maxDeliver) await sleep(retryDelay(this.settings.retryDelayMs, attempt));
      }
    }
    return {
      durable: this.settings.durable,
      eventId: event.id,
      event,
      error: errorText(lastError),
      deliveries: this.settings.maxDeliver,
      deadAt: new Date().toISOString(),
    };
  }

  private nextMember(): Member {
    const member = this.members[this.turn++ % Math.max(1, this.members.length)] ?? this.lastMember;
    if (!member) throw new Error('no member left to handle the batch');
    this.lastMember = member;
    return member;
  }

  private idle(): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, this.runtime.pollIntervalMs);
      this.wake = done;
      function done() {
        clearTimeout(timer);
        resolve();
      }
    });
  }
}

/**
 * Another reader of the same durable (another process, or a bus on another hub) committed first:
 * this batch is rolled back and reading resumes from the stored checkpoint.
 */
class CheckpointMoved extends Error {}

/** The in-process bus's own tables, kept in each store's database beside its events. */
class BusTables {
  private readonly ensured = new WeakMap<SqlDatabase, Promise<void>>();

  constructor(private readonly schema: string) {
    if (!IDENTIFIER.test(schema)) throw new Error(`invalid schema name "${schema}"`);
  }

  ensure(db: SqlDatabase): Promise<void> {
    let ensured = this.ensured.get(db);
    if (!ensured) {
      ensured = db
        .transaction(async (tx) => {
          await tx.query(`create schema if not exists ${this.schema}`);
          await tx.query(
            `create table if not exists ${this.schema}.consumer_checkpoints (
               context text not null,
               consumer text not null,
               tx text not null,
               pos text not null,
               updated_at timestamptz not null default now(),
               primary key (context, consumer))`,
          );
          await tx.query(
            `create table if not exists ${this.schema}.dead_letters (
               context text not null,
               durable text not null,
               event_id text not null,
               event jsonb,
               error text not null,
               deliveries integer not null,
               dead_at timestamptz not null,
               primary key (context, durable, event_id))`,
          );
        })
        .catch((error: unknown) => {
          this.ensured.delete(db);
          throw error;
        });
      this.ensured.set(db, ensured);
    }
    return ensured;
  }

  async checkpoint(db: SqlExecutor, context: string, consumer: string): Promise<Checkpoint | null> {
    const { rows } = await db.query<{ tx: string; pos: string }>(
      `select tx, pos from ${this.schema}.consumer_checkpoints where context = $1 and consumer = $2`,
      [context, consumer],
    );
    return rows[0] ? { tx: rows[0].tx, pos: rows[0].pos } : null;
  }

  /** commit stores the dead letters and moves the checkpoint from `previous` to `next`; it throws CheckpointMoved, writing nothing, if another reader moved it first. */
  async commit(db: SqlDatabase, context: string, consumer: string, previous: Checkpoint | null, next: Checkpoint, deadLetters: DeadLetter[]): Promise<void> {
    // Most batches move the checkpoint alone: one statement, atomic by itself, no BEGIN and COMMIT
    // (on PGlite's single connection every round trip holds up the readers queued behind it).
    if (deadLetters.length === 0) return this.moveCheckpoint(db, context, consumer, previous, next);
    await db.transaction(async (tx) => {
      for (const letter of deadLetters) {
        await tx.query(
          `insert into ${this.schema}.dead_letters (context, durable, event_id, event, error, deliveries, dead_at)
           values ($1, $2, $3, $4::jsonb, $5, $6, $7)
           on conflict (context, durable, event_id) do update
             set event = excluded.event, error = excluded.error, deliveries = excluded.deliveries, dead_at = excluded.dead_at`,
          [context, letter.durable, letter.eventId, JSON.stringify(letter.event), letter.error, letter.deliveries, letter.deadAt],
        );
      }
      await this.moveCheckpoint(tx, context, consumer, previous, next);
    });
  }

  /** Moves the checkpoint from `previous` to `next` in one statement; throws CheckpointMoved if another reader moved it first. */
  private async moveCheckpoint(db: SqlExecutor, context: string, consumer: string, previous: Checkpoint | null, next: Checkpoint): Promise<void> {
    const moved = previous
      ? await db.query(
          `update ${this.schema}.consumer_checkpoints set tx = $3, pos = $4, updated_at = now()
            where context = $1 and consumer = $2 and tx = $5 and pos = $6 returning 1`,
          [context, consumer, next.tx, next.pos, previous.tx, previous.pos],
          { prepare: true },
        )
      : await db.query(
          `insert into ${this.schema}.consumer_checkpoints (context, consumer, tx, pos) values ($1, $2, $3, $4)
           on conflict (context, consumer) do nothing returning 1`,
          [context, consumer, next.tx, next.pos],
        );
    if (moved.rows.length === 0) throw new CheckpointMoved();
  }

  async deadLetters(store: EventStore, durable: string): Promise<DeadLetter[]> {
    const db = sqlDatabaseOf(store);
    await this.ensure(db);
    const { rows } = await db.query<{ event_id: string; event: unknown; error: string; deliveries: number; dead_at: Date | string }>(
      `select event_id, event, error, deliveries, dead_at from ${this.schema}.dead_letters
        where context = $1 and durable = $2 order by dead_at, event_id`,
      [store.context, durable],
    );
    return rows.map((row) => ({
      durable,
      eventId: row.event_id,
      event: (typeof row.event === 'string' ? JSON.parse(row.event) : row.event) as CustosEvent | null,
      error: row.error,
      deliveries: row.deliveries,
      deadAt: new Date(row.dead_at).toISOString(),
    }));
  }
}
