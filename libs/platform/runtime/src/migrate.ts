import type { SqlDatabase, SqlExecutor } from '@custos/platform/event-store';
import type { BackgroundWorker, ContextRuntime } from './runtime';

/**
 * Runs a context's schema steps in one transaction under an advisory lock, so replicas that
 * start together neither race on CREATE ... IF NOT EXISTS nor see half a schema.
 */
export async function migrateContext(db: SqlDatabase, context: string, steps: Array<(x: SqlExecutor) => Promise<void>>): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.query(`SELECT pg_advisory_xact_lock(hashtext($1))`, [`custos-migrate:${context}`]);
    await tx.query(`CREATE SCHEMA IF NOT EXISTS ${context}`);
    for (const step of steps) await step(tx);
  });
}

/** Something with tables of its own in a context's schema (a read model, an inbox, the scheduler). */
export interface Migratable {
  migrate(x: SqlExecutor): Promise<void>;
}

/**
 * ContextLifecycle is what every context does when its module starts and stops: migrate the
 * context's tables (each Migratable's, in order, in one transaction: migrateContext), then start
 * its workers (projections, consumers, the scheduler); stop them on shutdown. A context's Nest
 * module provides one (Nest calls onModuleInit and onApplicationShutdown on it).
 */
export class ContextLifecycle {
  constructor(
    private readonly runtime: Pick<ContextRuntime, 'db' | 'context'>,
    private readonly tables: Migratable[],
    private readonly workers: BackgroundWorker,
  ) {}

  async onModuleInit(): Promise<void> {
    await migrateContext(
      this.runtime.db,
      this.runtime.context,
      this.tables.map((table) => (x: SqlExecutor) => table.migrate(x)),
    );
    await this.workers.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.workers.stop();
  }
}
