import { Checkpoint, compareCheckpoints, CustosEvent, EventStore, START } from '@custos/platform/event-store';

/**
 * A read model kept in memory and rebuilt from the store at every start: it replays from
 * position 0, then follows new events. `catchUp()` gives read-your-writes to code in the same
 * process (a handler that must see the catalog it just changed).
 */
export class InMemoryView {
  private checkpoint: Checkpoint = START;
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private stopped = false;

  constructor(
    private readonly store: EventStore,
    private readonly apply: (event: CustosEvent) => void,
    private readonly options: { batchSize?: number; pollIntervalMs?: number; onError?: (error: unknown) => void } = {},
  ) {}

  /** Replays everything stored, then polls for more. */
  async start(): Promise<void> {
    await this.catchUp();
    const poll = () => {
      if (this.stopped) return;
      this.passOnce()
        .catch((error) => this.options.onError?.(error))
        .finally(() => {
          if (!this.stopped) this.timer = setTimeout(poll, this.options.pollIntervalMs ?? 50);
        });
    };
    this.timer = setTimeout(poll, this.options.pollIntervalMs ?? 50);
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

  /** One pass over what is visible now; concurrent callers queue their passes. */
  private passOnce(): Promise<void> {
    const pass = (this.running ?? Promise.resolve()).catch(() => undefined).then(() => this.pass());
    this.running = pass;
    void pass.finally(() => {
      if (this.running === pass) this.running = undefined;
    }).catch(() => undefined);
    return pass;
  }

  private async pass(): Promise<void> {
    const batchSize = this.options.batchSize ?? 2000;
    for (;;) {
      const batch = await this.store.readAll(this.checkpoint, batchSize);
      for (const event of batch.events) this.apply(event);
      this.checkpoint = batch.checkpoint;
      // A short batch held everything visible: reading again now would find nothing.
      if (batch.events.length < batchSize) return;
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }
}
