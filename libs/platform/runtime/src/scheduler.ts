import type { SqlDatabase, SqlExecutor } from '@custos/platform/event-store';

export interface ScheduledJob {
  /** One job per key: scheduling again under the same key replaces (supersedes) the pending one. */
  key: string;
  kind: string;
  dueAt: Date;
  payload: unknown;
}

export type JobHandler = (payload: unknown, tx: SqlExecutor, job: { key: string; dueAt: Date }) => Promise<void>;

/**
 * Time as data: jobs live in a table of the context's schema, so they survive restarts. A due
 * job runs inside a transaction that also deletes it, so its effect happens exactly once even
 * with several replicas polling (rows are taken with FOR UPDATE SKIP LOCKED).
 */
export class DurableScheduler {
  private timer?: NodeJS.Timeout;
  private stopped = true;
  private running?: Promise<void>;
  private handlers: Record<string, JobHandler> = {};

  constructor(
    private readonly db: SqlDatabase,
    private readonly schema: string,
    private readonly clock: () => Date,
    private readonly options: { pollIntervalMs?: number; onError?: (error: unknown, job: string) => void } = {},
  ) {}

  async migrate(x: SqlExecutor = this.db): Promise<void> {
    await x.query(`CREATE SCHEMA IF NOT EXISTS ${this.schema}`);
    await x.query(`CREATE TABLE IF NOT EXISTS ${this.schema}.scheduled_jobs (
      key text PRIMARY KEY, kind text NOT NULL, due_at timestamptz NOT NULL, payload jsonb NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(), attempts int NOT NULL DEFAULT 0, last_error text)`);
    await x.query(`CREATE INDEX IF NOT EXISTS scheduled_jobs_due ON ${this.schema}.scheduled_jobs (due_at)`);
  }

  /** Schedules (or reschedules) a job inside the caller's transaction, so it exists only if the cause commits. */
  async schedule(tx: SqlExecutor, job: ScheduledJob): Promise<void> {
    await tx.query(
      `INSERT INTO ${this.schema}.scheduled_jobs (key, kind, due_at, payload) VALUES ($1, $2, $3, $4)
       ON CONFLICT (key) DO UPDATE SET kind = EXCLUDED.kind, due_at = EXCLUDED.due_at, payload = EXCLUDED.payload, attempts = 0, last_error = NULL`,
      [job.key, job.kind, job.dueAt.toISOString(), JSON.stringify(job.payload)],
    );
  }

  /**
   * Schedules several jobs in one statement, as `schedule` on each in turn would: a key given
   * twice keeps its last job (an upsert may not touch a row twice in one statement).
   */
  async scheduleMany(tx: SqlExecutor, jobs: ScheduledJob[]): Promise<void> {
    const latest = [...new Map(jobs.map((job) => [job.key, job])).values()];
    if (latest.length === 0) return;
    // One JSON parameter: the driver escapes each element of a text[] in JavaScript, JSON.stringify natively.
    await tx.query(
      `INSERT INTO ${this.schema}.scheduled_jobs (key, kind, due_at, payload)
       SELECT j->>'key', j->>'kind', (j->>'dueAt')::timestamptz, j->'payload' FROM jsonb_array_elements($1::jsonb) AS j
       ON CONFLICT (key) DO UPDATE SET kind = EXCLUDED.kind, due_at = EXCLUDED.due_at, payload = EXCLUDED.payload, attempts = 0, last_error = NULL`,
      [JSON.stringify(latest.map((job) => ({ key: job.key, kind: job.kind, dueAt: job.dueAt.toISOString(), payload: job.payload })))],
    );
  }

  /** Drops a pending job; true when there was one. */
  async cancel(tx: SqlExecutor, key: string): Promise<boolean> {
    const { rowCount } = await tx.query(`DELETE FROM ${this.schema}.scheduled_jobs WHERE key = $1`, [key]);
    return rowCount > 0;
  }

  /** Cancels several jobs in one statement; returns how many existed. */
  async cancelMany(tx: SqlExecutor, keys: string[]): Promise<number> {
    if (keys.length === 0) return 0;
    const { rowCount } = await tx.query(`DELETE FROM ${this.schema}.scheduled_jobs WHERE key = ANY($1::text[])`, [keys]);
    return rowCount;
  }

  async pending(keyPrefix = ''): Promise<Array<{ key: string; kind: string; dueAt: Date; payload: unknown }>> {
    const { rows } = await this.db.query<{ key: string; kind: string; due_at: Date | string; payload: unknown }>(
      `SELECT key, kind, due_at, payload FROM ${this.schema}.scheduled_jobs WHERE key LIKE $1 ORDER BY due_at`,
      [`${keyPrefix}%`],
    );
    return rows.map((r) => ({ key: r.key, kind: r.kind, dueAt: new Date(r.due_at), payload: typeof r.payload === 'string' ? JSON.parse(r.payload) : r.payload }));
  }

  /** Sets the handlers, by job kind, that runDue calls. */
  use(handlers: Record<string, JobHandler>): void {
    this.handlers = handlers;
  }

  /** Starts polling for due jobs with these handlers, by kind. */
  start(handlers: Record<string, JobHandler>): void {
    this.use(handlers);
    this.stopped = false;
    const tick = () => {
      if (this.stopped) return;
      this.running = this.runDue()
        .then(() => undefined)
        .catch((error) => this.options.onError?.(error, '(poll)'))
        .finally(() => {
          if (!this.stopped) this.timer = setTimeout(tick, this.options.pollIntervalMs ?? 500);
        });
    };
    tick();
  }

  /** Runs every job due now, each in its own transaction; returns how many ran. */
  async runDue(): Promise<number> {
    let ran = 0;
    for (;;) {
      const now = this.clock();
      let failed: { key: string; error: unknown; attempts: number } | undefined;
      const outcome = await this.db
        .transaction(async (tx) => {
          const { rows } = await tx.query<{ key: string; kind: string; due_at: Date | string; payload: unknown; attempts: number; version: string }>(
            `SELECT key, kind, due_at, payload, attempts, xmin::text AS version FROM ${this.schema}.scheduled_jobs WHERE due_at <= $1 ORDER BY due_at LIMIT 1 FOR UPDATE SKIP LOCKED`,
            [now.toISOString()],
          );
          const job = rows[0];
          if (!job) return 'idle' as const;
          try {
            await tx.query('SAVEPOINT job');
            // A kind without a handler (retired, or from a newer release) fails like a throwing
            // handler: thrown outside this try it rolled back the pass, and the job, oldest due
            // first, was picked again by every pass, so no other job ever ran.
            const handler = this.handlers[job.kind];
            if (!handler) throw new Error(`no handler for scheduled job kind ${job.kind}`);
            const payload = typeof job.payload === 'string' ? JSON.parse(job.payload) : job.payload;
            await handler(payload, tx, { key: job.key, dueAt: new Date(job.due_at) });
            // Only the row version that ran: a handler that schedules its own key again (a
            // recurring job) wrote a new version, which a delete by key alone would drop.
            await tx.query(`DELETE FROM ${this.schema}.scheduled_jobs WHERE key = $1 AND xmin::text = $2`, [job.key, job.version]);
            return 'ran' as const;
          } catch (error) {
            await tx.query('ROLLBACK TO SAVEPOINT job');
            failed = { key: job.key, error, attempts: job.attempts + 1 };
            // Back off so one failing job cannot starve the others; it stays until it succeeds.
            const retryAt = new Date(now.getTime() + Math.min(60_000, 1000 * 2 ** Math.min(job.attempts, 6)));
            await tx.query(`UPDATE ${this.schema}.scheduled_jobs SET attempts = attempts + 1, last_error = $2, due_at = $3 WHERE key = $1`, [
              job.key,
              String((error as Error)?.message ?? error),
              retryAt.toISOString(),
            ]);
            return 'failed' as const;
          }
        });
      if (failed) this.options.onError?.(failed.error, failed.key);
      if (outcome === 'idle') return ran;
      if (outcome === 'ran') ran += 1;
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }
}
