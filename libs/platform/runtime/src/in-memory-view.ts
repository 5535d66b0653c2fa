import { Checkpoint, compareCheckpoints, CustosEvent, EventStore, START } from '@custos/platform/event-store';
import { ReadPacer } from '@custos/platform/messaging';

/**
 * A read model kept in memory and rebuilt from the store at every start: it replays from
 * position 0, then follows new events: at once when they were appended through the same store
 * object (a ReadPacer: no delay when idle; under load, what is appended during a pass and up to
 * `busyLingerMs` after it makes the next one),
 * else within the poll interval. `catchUp()` gives read-your-writes to code in the same process
 * (a handler that must see the catalog it just changed).
 */
export class InMemoryView {
  private checkpoint: Checkpoint = START;
  private running?: Promise<number>;
  private stopped = false;
  private pacer?: ReadPacer;
  private following?: Promise<void>;
  private unlisten?: () => void;

  constructor(
    private readonly store: EventStore,
    private readonly apply: (event: CustosEvent) => void,
    private readonly options: { batchSize?: number; pollIntervalMs?: number; busyLingerMs?: number; onError?: (error: unknown) => void } = {},
  ) {}

  /** Replays everything stored, then follows: woken by this store's appends, polling for other processes'. */
  async start(): Promise<void> {
    // Under load a pass waits up to 20 ms for more events (one read instead of one per append).
    const pacer = new ReadPacer(this.options.pollIntervalMs ?? 50, this.options.busyLingerMs ?? 20);
    this.pacer = pacer;
    // Before the replay: an append committed during it must still wake the first pass after it.
    this.unlisten = this.store.onAppend?.(() => pacer.wake());
    await this.catchUp();
    this.following = this.follow(pacer);
  }

  private async follow(pacer: ReadPacer): Promise<void> {
    let found = 0;
    while (!this.stopped) {
      await pacer.idle(found);
      if (this.stopped) return;
      pacer.reading();
      try {
        found = await this.passOnce();
      } catch (error) {
        this.options.onError?.(error);
        // Not woken again at once by a failing read: wait a poll interval.
        found = 1;
        pacer.reading();
      }
    }
  }

  /**
   * Resolves once every event committed before the call is applied. The store shows an event only
   * when all older transactions have ended, so this may wait for a transaction open elsewhere;
   * after `timeoutMs` it gives up waiting and returns what it has (the poll applies the rest).
   */
  async catchUp(timeoutMs = 10_000): Promise<void> {
    const target = await this.store.head();
    const deadline = Date.now() + timeoutMs;
    // Already there (the common case for a view whose store is quiet): no read at all.
    while (target !== null && compareCheckpoints(this.checkpoint, target) < 0 && !this.stopped) {
      await this.passOnce();
      if (compareCheckpoints(this.checkpoint, target) >= 0 || Date.now() >= deadline || this.stopped) return;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  /** One pass over what is visible now, resolving with the events it applied; concurrent callers queue their passes. */
  private passOnce(): Promise<number> {
    const pass = (this.running ?? Promise.resolve(0)).catch(() => 0).then(() => this.pass());
    this.running = pass;
    void pass.finally(() => {
      if (this.running === pass) this.running = undefined;
    }).catch(() => undefined);
    return pass;
  }

  private async pass(): Promise<number> {
    const batchSize = this.options.batchSize ?? 2000;
    let applied = 0;
    for (;;) {
      const batch = await this.store.readAll(this.checkpoint, batchSize);
      for (const event of batch.events) this.apply(event);
      this.checkpoint = batch.checkpoint;
      applied += batch.events.length;
      // A short batch held everything visible: reading again now would find nothing.
      if (batch.events.length < batchSize) return applied;
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.unlisten?.();
    this.pacer?.stop();
    await this.following;
    await this.running?.catch(() => undefined);
  }
}
