import type { SqlDatabase, SqlExecutor } from '@custos/platform/event-store';

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
