import { START, type Checkpoint } from './event';
import type { ReadAllResult, SubscribeOptions, Subscription, SubscriptionHandler } from './event-store';
import type { SqlDatabase, SqlExecutor } from './sql';

/** compareCheckpoints orders checkpoints as the store's log does: by transaction id, then position. */
export function compareCheckpoints(a: Checkpoint, b: Checkpoint): number {
  const tx = BigInt(a.tx) - BigInt(b.tx);
  if (tx !== 0n) return tx < 0n ? -1 : 1;
  const pos = BigInt(a.pos) - BigInt(b.pos);
  return pos === 0n ? 0 : pos < 0n ? -1 : 1;
}

/** What a subscription needs from its store; kept narrow so the loop can be read on its own. */
export interface SubscriptionSource {
  db: SqlDatabase;
  readAll(from: Checkpoint, batchSize: number): Promise<ReadAllResult>;
  head(): Promise<Checkpoint | null>;
  checkpointOf(name: string): Promise<Checkpoint | null>;
  /** Stores `next` if the stored checkpoint is still `previous` (or absent); false if someone else moved it. */
  saveCheckpoint(tx: SqlExecutor, name: string, next: Checkpoint, previous: Checkpoint): Promise<boolean>;
  onStop(subscription: SqlSubscription): void;
}

const DEFAULT_BATCH_SIZE = 500;
const DEFAULT_POLL_MS = 100;
/** After a wake-up that found nothing, how soon (1, 2, 4, 8, then every 10 ms) and how many times to look again. */
const FIRST_EXPECTED_RETRY_MS = 1;
const EXPECTED_RETRY_MS = 10;
const EXPECTED_RETRIES = 100;
/**
 * No fixed linger by default: a woken idle subscriber reads at once. What is appended while it
 * handles a batch makes the next batch, which then waits up to `busyLingerMs` to fill (the policy
 * of the buses' consumers and the in-memory views too). An explicit `lingerMs` still makes an
 * idle subscriber wait that long.
 */
const DEFAULT_LINGER_MS = 0;
/** Under load (appends arrived while a batch was handled), how long the next batch may fill. */
const DEFAULT_BUSY_LINGER_MS = 25;
const FIRST_BACKOFF_MS = 200;
const MAX_BACKOFF_MS = 5_000;

/** Thrown inside the batch transaction to roll back a batch another process already applied. */
class CheckpointMoved extends Error {}

interface CaughtUpWaiter {
  target: Checkpoint;
  resolve(): void;
  reject(error: Error): void;
}

/**
 * SqlSubscription is a catch-up subscriber: it reads committed events after its checkpoint
 * and hands them to the handler in a transaction that also stores the new checkpoint, then
 * waits for a local wake-up or the poll interval.
 */
export class SqlSubscription implements Subscription {
  private checkpoint: Checkpoint;
  private loaded = false;
  private stopped = false;
  private woken = false;
  /** Reads left in which a committed append that woke us should become visible. */
  private expected = 0;
  private expectedRetryMs = FIRST_EXPECTED_RETRY_MS;
  private sleeping: { resolve(): void; wakeable: boolean; timer: NodeJS.Timeout; lingering?: boolean } | null = null;
  private readonly waiters: CaughtUpWaiter[] = [];
  private readonly reported = new Set<string>();
  private readonly batchSize: number;
  private readonly pollIntervalMs: number;
  private readonly lingerMs: number;
  private readonly busyLingerMs: number;
  private readonly loop: Promise<void>;

  constructor(
    private readonly source: SubscriptionSource,
    readonly name: string,
    private readonly handler: SubscriptionHandler,
    private readonly options: SubscribeOptions,
  ) {
    this.checkpoint = options.from ?? START;
    this.batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
    this.pollIntervalMs = options.pollIntervalMs ?? DEFAULT_POLL_MS;
    this.lingerMs = options.lingerMs ?? DEFAULT_LINGER_MS;
    this.busyLingerMs = options.busyLingerMs ?? DEFAULT_BUSY_LINGER_MS;
    if (!Number.isSafeInteger(this.batchSize) || this.batchSize <= 0) throw new RangeError(`batchSize must be a positive integer`);
    this.loop = this.run();
  }

  position(): Checkpoint {
    return this.checkpoint;
  }

  /**
   * caughtUp resolves once this subscriber's checkpoint reaches the newest event committed
   * at the time of the call. An event becomes readable only when every older transaction has
   * ended, so a long transaction elsewhere delays this (it never resolves early).
   */
  async caughtUp(): Promise<void> {
    if (this.stopped) throw new Error(`subscription ${this.name} is stopped`);
    const target = await this.source.head();
    if (target === null) return;
    await new Promise<void>((resolve, reject) => {
      this.waiters.push({ target, resolve, reject });
      this.settleWaiters();
      this.wake(true);
    });
  }

  /** stop ends the loop after the batch in flight commits or rolls back. */
  async stop(): Promise<void> {
    if (!this.stopped) {
      this.stopped = true;
      this.interruptSleep(true);
      const error = new Error(`subscription ${this.name} stopped before catching up`);
      for (const waiter of this.waiters.splice(0)) waiter.reject(error);
      this.source.onStop(this);
    }
    await this.loop;
  }

  /**
   * wake makes an idle subscriber read now instead of at the end of its poll interval; a busy
   * one reads again as soon as its batch is done, so the appends of a busy moment are read,
   * handled and checkpointed together. With a `lingerMs` option an idle subscriber first waits
   * that long, unless `urgent` (someone waits for it to catch up).
   */
  wake(urgent = false): void {
    this.woken = true;
    if (!urgent) {
      // A wake-up during a run of empty reads keeps backing off: the same open transaction holds them back.
      if (this.expected === 0) this.expectedRetryMs = FIRST_EXPECTED_RETRY_MS;
      this.expected = EXPECTED_RETRIES;
    }
    const sleeping = this.sleeping;
    if (urgent || this.lingerMs === 0 || !sleeping?.wakeable) return this.interruptSleep(false);
    if (sleeping.lingering) return;
    clearTimeout(sleeping.timer);
    sleeping.lingering = true;
    sleeping.timer = setTimeout(() => this.interruptSleep(false), this.lingerMs);
  }

  private async run(): Promise<void> {
    let backoff = 0;
    while (!this.stopped) {
      try {
        // Before loading: a wake-up that arrives meanwhile must still count.
        this.woken = false;
        if (!this.loaded) {
          this.checkpoint = (await this.source.checkpointOf(this.name)) ?? this.options.from ?? START;
          this.loaded = true;
        }
        const read = await this.processBatch();
        backoff = 0;
        // Events read, and no wake-up since this read began: nothing more is expected.
        if (read > 0 && !this.woken) this.expected = 0;
        if (read === 0 && this.expected > 0) {
          // Woken by a commit yet nothing to read: an older transaction elsewhere still holds the
          // visibility horizon back. Look again soon rather than a whole poll interval later, and
          // let no wake-up cut the wait short: under load they come every few ms, and each would
          // cost a read that the same open transaction keeps empty.
          this.expected -= 1;
          const retryMs = this.expectedRetryMs;
          this.expectedRetryMs = Math.min(EXPECTED_RETRY_MS, retryMs * 2);
          await this.sleep(retryMs, false);
        } else if (read > 0 && read < this.batchSize && this.woken && this.busyLingerMs > 0) {
          // Appended to while this batch was handled: busy. Let the next batch gather what comes
          // in the next moment too, rather than read (and commit a checkpoint) per few events.
          await this.sleep(this.busyLingerMs, false);
        } else if (read < this.batchSize) await this.sleep(this.pollIntervalMs, true);
      } catch (error) {
        if (error instanceof CheckpointMoved) {
          this.loaded = false;
          continue;
        }
        this.report(error);
        backoff = backoff === 0 ? FIRST_BACKOFF_MS : Math.min(backoff * 2, MAX_BACKOFF_MS);
        await this.sleep(backoff, false);
      }
    }
  }

  private async processBatch(): Promise<number> {
    // Read outside the transaction: an idle poll then costs one SELECT, not BEGIN/COMMIT.
    const { events, checkpoint } = await this.source.readAll(this.checkpoint, this.batchSize);
    if (events.length > 0) {
      const prefixes = this.options.streamPrefixes;
      const selected = prefixes ? events.filter((e) => prefixes.some((p) => e.subject.startsWith(p))) : events;
      const previous = this.checkpoint;
      const handleAndSave = async (tx: SqlExecutor) => {
        if (selected.length > 0) await this.handler(selected, tx);
        if (!(await this.source.saveCheckpoint(tx, this.name, checkpoint, previous))) throw new CheckpointMoved();
      };
      if (this.options.transactional === false) await handleAndSave(this.source.db);
      else await this.source.db.transaction(handleAndSave);
      this.checkpoint = checkpoint;
    }
    this.settleWaiters();
    return events.length;
  }

  private settleWaiters(): void {
    if (!this.loaded) return;
    for (let i = this.waiters.length - 1; i >= 0; i--) {
      if (compareCheckpoints(this.checkpoint, this.waiters[i].target) >= 0) this.waiters.splice(i, 1)[0].resolve();
    }
  }

  private report(error: unknown): void {
    if (this.options.onError) {
      try {
        this.options.onError(error);
      } catch {
        // A throwing error callback must not end the loop: the batch still has to be retried.
      }
      return;
    }
    // A handler failing on every retry would otherwise print the same line every 5 s forever.
    const key = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    if (this.reported.has(key)) return;
    this.reported.add(key);
    console.error(`custos subscription ${this.name}: batch failed, retrying`, error);
  }

  private sleep(ms: number, wakeable: boolean): Promise<void> {
    if (this.stopped || (wakeable && this.woken)) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.sleeping = null;
        resolve();
      }, ms);
      this.sleeping = { resolve, wakeable, timer };
    });
  }

  private interruptSleep(always: boolean): void {
    const sleeping = this.sleeping;
    if (!sleeping || (!always && !sleeping.wakeable)) return;
    clearTimeout(sleeping.timer);
    this.sleeping = null;
    sleeping.resolve();
  }
}
