/** After a wake-up whose read found nothing, the first look again; it doubles up to the poll interval. */
const FIRST_RETRY_MS = 1;

/**
 * ReadPacer decides when a reader of an event store (the in-process bus's consumers, an in-memory
 * view) reads next. It is the group-commit policy applied to reading, the same one the store's
 * own subscriptions and the NATS consumers follow:
 *
 * - woken while idle (an append of this process became readable): read at once, so a lone change
 *   is never held back;
 * - woken while a read and its handling are in flight: read again as soon as they end, so what was
 *   appended meanwhile is gathered into one batch. A busy store still gives few, large batches;
 * - woken, yet the read found nothing (an older transaction elsewhere still holds the store's
 *   visibility horizon back): look again after 1, 2, 4, … ms, up to the poll interval;
 * - otherwise after the poll interval, for appends by other processes, which wake nobody here.
 *
 * There is no fixed linger: an idle system reacts at once.
 */
export class ReadPacer {
  private woken = false;
  private retryMs = 0;
  private sleeping: (() => void) | undefined;
  private stopped = false;

  constructor(private readonly pollIntervalMs: number) {}

  /** Something was appended: end the wait in progress, or make the next one return at once. */
  wake(): void {
    this.woken = true;
    this.retryMs = FIRST_RETRY_MS;
    this.interrupt();
  }

  /** Call before each read: a wake-up from here on is for events this read may not see. */
  reading(): void {
    this.woken = false;
  }

  /** Resolves when the next read is due, given how many events the last one found. */
  idle(found: number): Promise<void> {
    if (found > 0) this.retryMs = 0;
    if (this.woken || this.stopped) return Promise.resolve();
    let ms = this.pollIntervalMs;
    if (found === 0 && this.retryMs > 0) {
      ms = this.retryMs;
      this.retryMs = this.retryMs * 2 >= this.pollIntervalMs ? 0 : this.retryMs * 2;
    }
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      this.sleeping = done;
      function done() {
        clearTimeout(timer);
        resolve();
      }
    });
  }

  /** Ends the wait in progress, if any (without counting as a wake-up). */
  interrupt(): void {
    const sleeping = this.sleeping;
    this.sleeping = undefined;
    sleeping?.();
  }

  /** Ends the wait in progress and every later one at once: the reader is stopping. */
  stop(): void {
    this.stopped = true;
    this.interrupt();
  }
}
