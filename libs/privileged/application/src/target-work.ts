import type { SqlExecutor } from '@custos/platform/event-store';
import type { DurableScheduler } from '@custos/platform/runtime';

/** A scheduler job whose work talks to a target: its payload counts the failed attempts. */
export interface TargetJob<P extends object = object> {
  key: string;
  kind: string;
  payload: P & { attempt?: number };
}

/**
 * TargetWork keeps talking to targets out of database transactions. A job that needs a target
 * is claimed inside the scheduler's transaction (rescheduled `claimMs` ahead, so that it comes
 * back should this process die) and its work runs once that transaction has committed; the
 * work records its outcome in a transaction of its own. A slow or unreachable target then holds
 * no transaction open (on the all-in-one's PGlite, whose transactions take turns, it would stall
 * every write), and a failed attempt comes back after a backoff of 1 s doubling to 60 s.
 */
export class TargetWork {
  private readonly inflight = new Set<Promise<void>>();

  constructor(
    private readonly scheduler: DurableScheduler,
    private readonly db: { transaction<R>(work: (tx: SqlExecutor) => Promise<R>): Promise<R> },
    private readonly clock: () => Date,
    private readonly onError: (error: unknown, job: string) => void,
    private readonly claimMs = 30_000,
  ) {}

  /** Inside the job's transaction: holds the job and runs `work` once the transaction commits; `work` throwing means "again later". */
  async claim<P extends object>(tx: SqlExecutor, job: TargetJob<P>, work: () => Promise<void>): Promise<void> {
    if (!tx.afterCommit) throw new Error('TargetWork.claim needs a transaction');
    await this.scheduler.schedule(tx, { ...job, dueAt: new Date(this.clock().getTime() + this.claimMs) });
    tx.afterCommit(() => {
      const running = work()
        .catch((error: unknown) => this.retryLater(job, error))
        .finally(() => this.inflight.delete(running));
      this.inflight.add(running);
    });
  }

  /** Runs `work` once `tx` has committed, outside it, with nothing to retry (a periodic job that comes back anyway); its failure is reported. */
  afterCommit(tx: SqlExecutor, label: string, work: () => Promise<unknown>): void {
    if (!tx.afterCommit) throw new Error('TargetWork.afterCommit needs a transaction');
    tx.afterCommit(() => {
      const running = work()
        .then(() => undefined)
        .catch((error: unknown) => this.onError(error, label))
        .finally(() => this.inflight.delete(running));
      this.inflight.add(running);
    });
  }

  /** Resolves once no work is under way (for shutdown, and for specs that step the scheduler). */
  async idle(): Promise<void> {
    while (this.inflight.size > 0) await Promise.all([...this.inflight]);
  }

  private async retryLater<P extends object>(job: TargetJob<P>, error: unknown): Promise<void> {
    this.onError(error, job.key);
    const attempt = (job.payload.attempt ?? 0) + 1;
    const dueAt = new Date(this.clock().getTime() + Math.min(60_000, 1000 * 2 ** Math.min(attempt - 1, 6)));
    // Should even this fail, the claim brings the job back.
    await this.db.transaction((tx) => this.scheduler.schedule(tx, { ...job, payload: { ...job.payload, attempt }, dueAt })).catch((e: unknown) => this.onError(e, job.key));
  }
}
