import type { DurableScheduler } from '@custos/platform/runtime';

/**
 * JobKick runs the scheduler's due jobs now, in this process, right after a transaction that
 * scheduled one for now has committed, instead of at the scheduler's next poll: a grant's account
 * is made, and an ended one cut off, about one poll interval sooner. Kicks while a run is under way
 * ask for one more run after it, never for runs side by side. Safe beside the poll and other
 * replicas: due jobs are taken FOR UPDATE SKIP LOCKED and each runs once.
 */
export class JobKick {
  private running?: Promise<void>;
  private again = false;
  private stopped = false;

  constructor(
    private readonly scheduler: DurableScheduler,
    private readonly onError: (error: unknown) => void,
  ) {}

  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = (async () => {
      do {
        this.again = false;
        await this.scheduler.runDue().catch(this.onError);
      } while (this.again && !this.stopped);
    })().finally(() => (this.running = undefined));
  }

  /** No more kicks; resolves once a run under way is done. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.running;
  }
}

/** A kick that does nothing: the scheduler's poll alone runs the jobs (specs that step the scheduler by hand). */
export const NO_KICK = { kick: () => undefined, stop: async () => undefined } as Pick<JobKick, 'kick' | 'stop'>;
