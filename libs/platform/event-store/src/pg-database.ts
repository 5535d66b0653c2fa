import { Pool, type PoolClient, type QueryResult } from 'pg';
import type { SqlDatabase, SqlExecutor } from './sql';

export interface PgDatabaseOptions {
  /** Pool size. Default 20: the store benchmark runs 16 concurrent writers plus subscribers. */
  max?: number;
  /** Shown in `pg_stat_activity.application_name`. Default `custos`. */
  applicationName?: string;
}

function toResult<R>(result: QueryResult): { rows: R[]; rowCount: number } {
  // rowCount is null for commands that report none (e.g. LISTEN); callers count rows either way.
  return { rows: result.rows as R[], rowCount: result.rowCount ?? result.rows.length };
}

/**
 * createPgDatabase wraps a `pg` pool: every `query` runs on any free connection,
 * and `transaction` pins one connection between BEGIN and COMMIT/ROLLBACK so the
 * work sees and commits a single transaction.
 */
export function createPgDatabase(connectionString: string, options: PgDatabaseOptions = {}): SqlDatabase {
  const pool = new Pool({
    connectionString,
    max: options.max ?? 20,
    application_name: options.applicationName ?? 'custos',
  });
  // An idle client losing its server connection emits on the pool; without a listener
  // Node would crash the process. The next checkout gets a fresh connection.
  pool.on('error', () => undefined);
  let closed: Promise<void> | null = null;

  return {
    dialect: 'pg',
    async query<R = Record<string, unknown>>(text: string, params?: unknown[]) {
      return toResult<R>(await pool.query(text, params));
    },
    async transaction<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T> {
      const client: PoolClient = await pool.connect();
      let broken: unknown = undefined;
      try {
        await client.query('BEGIN');
        const tx: SqlExecutor = {
          async query<R = Record<string, unknown>>(text: string, params?: unknown[]) {
            return toResult<R>(await client.query(text, params));
          },
        };
        const result = await work(tx);
        await client.query('COMMIT');
        return result;
      } catch (error) {
        try {
          await client.query('ROLLBACK');
        } catch (rollbackError) {
          // The connection is unusable (server gone, protocol error): destroy it rather
          // than hand a half-open transaction to the next caller.
          broken = rollbackError;
        }
        throw error;
      } finally {
        client.release(broken instanceof Error ? broken : undefined);
      }
    },
    close() {
      closed ??= pool.end();
      return closed;
    },
  };
}
