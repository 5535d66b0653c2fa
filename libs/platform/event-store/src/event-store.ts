import type { AppendResult, Checkpoint, CustosEvent, ExpectedVersion, NewEvent } from './event';

/**
 * A unit of work: the store's appends and reads and the caller's own writes (an inbox row, a
 * read model, a subscriber's checkpoint) that commit together or not at all. The port knows
 * nothing of what it holds: an adapter opens its own (`EventStore.unitOfWork`, or the batch of a
 * subscription) and reads it back when it is handed one. The SQL adapters' unit of work is a SQL
 * transaction, which a read model or an inbox reaches with `sqlOf(unit)`.
 */
export interface UnitOfWork {
  /** Runs `callback` once the unit of work has committed, never if it rolls back. */
  afterCommit?(callback: () => void): void;
}

export interface AppendOptions {
  /** Append inside a caller's unit of work (to write an inbox row or a projection with it). */
  tx?: UnitOfWork;
}

export interface ReadOptions {
  /** Read inside a caller's unit of work (what it has appended so far included). */
  tx?: UnitOfWork;
}

/** One stream's share of a multi-stream append (see EventStore.appendStreams). */
export interface StreamWrite {
  streamId: string;
  events: NewEvent[];
  /** The stream's version before these events: a number, or 'no-stream' (0). */
  expectedVersion: number | 'no-stream';
}

export interface ReadAllResult {
  events: CustosEvent[];
  /** The checkpoint after the last event returned (the input one when none were returned). */
  checkpoint: Checkpoint;
}

/**
 * Called with each batch of events, in commit order, inside a unit of work that also stores the
 * subscriber's checkpoint: an effect written through `tx` and the checkpoint commit together or
 * not at all.
 */
export type SubscriptionHandler = (events: CustosEvent[], tx: UnitOfWork) => Promise<void>;

export interface SubscribeOptions {
  /** Where to start when the subscriber has no stored checkpoint. Default: START. */
  from?: Checkpoint;
  batchSize?: number;
  /** Poll interval when idle, for events written by other processes. Default 100 ms. */
  pollIntervalMs?: number;
  /**
   * How long an idle subscriber woken by an append in this process waits before reading. Default
   * 0: it reads at once, and what is appended while it handles a batch makes its next batch, so a
   * busy moment still costs few transactions without delaying a lone event. Waiting for
   * `caughtUp()` is never delayed by it.
   */
  lingerMs?: number;
  /**
   * How long the next batch may wait to fill when events were appended while the previous one
   * was handled (a busy store): default 25 ms. An idle subscriber is never held back by it.
   */
  busyLingerMs?: number;
  /** Only events whose stream id starts with one of these prefixes (`identity-`). */
  streamPrefixes?: string[];
  /**
   * Default true: the handler's writes through `tx` and the checkpoint commit together. false for
   * a handler that writes nothing through `tx` (a relay publishing to a broker): it gets the
   * database itself, and the checkpoint is saved by one statement, without BEGIN and COMMIT.
   */
  transactional?: boolean;
  onError?: (error: unknown) => void;
}

export interface Subscription {
  readonly name: string;
  /** The checkpoint of the last committed batch. */
  position(): Checkpoint;
  /** Resolves once the subscriber has processed everything visible in the store now. */
  caughtUp(): Promise<void>;
  stop(): Promise<void>;
}

/** The event store port. Streams are append-only; there is no update or delete. */
export interface EventStore {
  /** The context whose streams this store holds (`identity`): it names the CloudEvents source and type. */
  readonly context: string;
  /** Runs `work` in one unit of work of this store: it commits when `work` resolves, rolls back when it throws. */
  unitOfWork<T>(work: (tx: UnitOfWork) => Promise<T>): Promise<T>;
  append(streamId: string, events: NewEvent[], expectedVersion: ExpectedVersion, options?: AppendOptions): Promise<AppendResult>;
  /**
   * Appends to several streams in one statement, all or nothing: each write at its stream's
   * expected version. If any stream has moved, nothing is written and WrongExpectedVersionError
   * names that stream; inside `options.tx` the caller's transaction is then aborted (no
   * savepoint is paid for on this path, which is meant for group commits that retry elsewhere).
   * Returns the stored events of each write, in the order given.
   */
  appendStreams(writes: StreamWrite[], options?: AppendOptions): Promise<CustosEvent[][]>;
  /** Events of several streams in one read, by stream id, each in version order (absent streams map to []). */
  readStreams(streamIds: string[], options?: ReadOptions): Promise<Map<string, CustosEvent[]>>;
  /** Events of one stream, from `fromVersion` (inclusive, default 1). */
  readStream(streamId: string, fromVersion?: number, options?: ReadOptions): Promise<CustosEvent[]>;
  /** Committed events after `from`, in commit order; never skips one committed late. */
  readAll(from: Checkpoint, batchSize: number): Promise<ReadAllResult>;
  /** The checkpoint of the newest committed event (null when the store is empty). */
  head(): Promise<Checkpoint | null>;
  /** Catch up from the stored checkpoint (or `from`), then follow live. */
  subscribe(name: string, handler: SubscriptionHandler, options?: SubscribeOptions): Subscription;
  /** The stored checkpoint of a subscriber, or null. */
  checkpointOf(name: string): Promise<Checkpoint | null>;
  /**
   * Calls `listener` each time events appended through this store object become readable (at
   * once, or when the transaction they were appended in commits), until the returned function is
   * called: a reader that keeps no checkpoint here (an in-memory view, the in-process bus) reads
   * then instead of at its next poll. Appends by other processes are not seen: poll for those.
   */
  onAppend?(listener: () => void): () => void;
  close(): Promise<void>;
}
