/** After a wake-up whose read found nothing, the first look again; it doubles up to the poll interval. */
const FIRST_RETRY_MS = 1;

/**
 * ReadPacer decides when a reader of an event store (the in-process bus's consumers, an in-memory
 * view) reads next. It is the group-commit policy applied to reading, the same one the store's
 * own subscriptions and the NATS consumers follow:
 *
 * - woken while idle (an append of this process became readable): read at once, so a lone change
 *   is never held back;
 * - woken while a read and its handling are in flight: the store is busy. Read again once they end,
 *   after `busyLingerMs` (if set), so that what is appended meanwhile and just after is gathered
 *   into one batch: a busy store gives few, large batches, as before there were wake-ups at all;
 * - woken, yet the read found nothing (an older transaction elsewhere still holds the store's
 *   visibility horizon back: earlier work still being written): look again after 1, 2, 4, … ms,
 *   up to the poll interval, and let no wake-up cut that short (under load wake-ups come every
 *   few ms, and each would cost a read that the same open transaction keeps empty);
 * - otherwise after the poll interval, for appends by other processes, which wake nobody here.
 *
 * There is no fixed linger: an idle system reacts at once, and only a busy one waits to batch.
 */
export class ReadPacer {
  private woken = false;
  /** The next retry after an empty read since the last wake-up (0: none expected). */
  private retryMs = 0;
  private sleeping: { end: () => void; retry: boolean } | undefined;
  private stopped = false;

  constructor(
    private readonly pollIntervalMs: number,
    /** How long to let a batch fill after a read during which more was appended (0: read again at once). */
    private readonly busyLingerMs = 0,
  ) {}

  /** Something was appended: end a poll wait, or make the next wait return at once. A retry wait runs out. */
  wake(): void {
    this.woken = true;
    if (this.retryMs === 0) this.retryMs = FIRST_RETRY_MS;
    if (this.sleeping && !this.sleeping.retry) this.interrupt();
  }

  /** Call before each read: a wake-up from here on is for events this read may not see. */
  reading(): void {
    this.woken = false;
  }

  /** Resolves when the next read is due, given how many events the last one found. */
  idle(found: number): Promise<void> {
    if (this.stopped) return Promise.resolve();
    // Events found, and no wake-up since: nothing more is expected.
    if (found > 0 && !this.woken) this.retryMs = 0;
    if (found === 0 && this.retryMs > 0) {
      const ms = this.retryMs;
      this.retryMs = ms * 2 >= this.pollIntervalMs ? 0 : ms * 2;
      return this.sleep(ms, true);
    }
    if (this.woken) return found > 0 && this.busyLingerMs > 0 ? this.sleep(this.busyLingerMs, true) : Promise.resolve();
    return this.sleep(this.pollIntervalMs, false);
  }

  /** Ends the wait in progress, if any (without counting as a wake-up). */
  interrupt(): void {
    const sleeping = this.sleeping;
    this.sleeping = undefined;
    sleeping?.end();
  }

  /** Ends the wait in progress and every later one at once: the reader is stopping. */
  stop(): void {
    this.stopped = true;
    this.interrupt();
  }

  private sleep(ms: number, retry: boolean): Promise<void> {
    return new Promise((resolve) => {
      const sleeping = {
        retry,
        end: () => {
          clearTimeout(timer);
          if (this.sleeping === sleeping) this.sleeping = undefined;
          resolve();
        },
      };
      const timer = setTimeout(sleeping.end, ms);
      this.sleeping = sleeping;
    });
  }
}
