import { createHash } from 'node:crypto';
import { DatabaseError, Pool, type PoolClient, type QueryConfig, type QueryResult } from 'pg';
import { runCallbacks, type QueryOptions, type SqlDatabase, type SqlExecutor } from './sql';

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

const statementNames = new Map<string, string>();

/**
 * A named statement is parsed and planned once per connection instead of on every call (for
 * the event store's append, planning cost as much as the insert: the store benchmark's
 * appends/s doubled). The name derives from the text, so it is the same on every connection.
 */
function toQuery(text: string, params: unknown[] | undefined, options: QueryOptions | undefined): QueryConfig {
  if (!options?.prepare) return { text, values: params };
  let name = statementNames.get(text);
  if (name === undefined) {
    name = `custos_${createHash('sha1').update(text).digest('hex').slice(0, 24)}`;
    statementNames.set(text, name);
  }
  return { name, text, values: params };
}

/**
 * Custos's statements are short lookups and batch writes. Without statistics (a table grown since
 * its last analyze) the planner guessed thousands of rows for `stream_id = ANY($1)` and started two
 * parallel workers for a read of a few dozen rows: ~8 ms and two processes' start-up instead of
 * ~0.3 ms. Set at connection start-up, so no statement can run before it.
 */
const NO_PARALLEL_QUERY = '-c max_parallel_workers_per_gather=0';

/** The connection string with NO_PARALLEL_QUERY added to its own `options` (which would override ours). */
function withoutParallelQuery(connectionString: string): string {
  let url: URL;
  try {
    url = new URL(connectionString);
  } catch {
    return connectionString;
  }
  const own = url.searchParams.get('options');
  if (own === null) return connectionString;
  url.searchParams.set('options', `${own} ${NO_PARALLEL_QUERY}`);
  return url.toString();
}

/**
 * An error the server answered for one statement (a constraint, a cast, a raise): the connection
 * is still in step and goes back to the pool. Anything else (a dropped socket, a protocol error,
 * a FATAL from the server) may have left it unusable, and it is closed instead.
 */
function isStatementError(error: unknown): boolean {
  return error instanceof DatabaseError && error.severity !== 'FATAL' && error.severity !== 'PANIC';
}

/**
 * createPgDatabase wraps a `pg` pool: every `query` runs on any free connection,
 * and `transaction` pins one connection between BEGIN and COMMIT/ROLLBACK so the
 * work sees and commits a single transaction. Queries marked `prepare` use named statements,
 * which a pooler in transaction mode (PgBouncer < 1.21) does not support.
 */
export function createPgDatabase(connectionString: string, options: PgDatabaseOptions = {}): SqlDatabase {
  const pool = new Pool({
    connectionString: withoutParallelQuery(connectionString),
    options: NO_PARALLEL_QUERY,
    max: options.max ?? 20,
    application_name: options.applicationName ?? 'custos',
  });
  // An idle client losing its server connection emits on the pool; without a listener
  // Node would crash the process. The next checkout gets a fresh connection.
  pool.on('error', () => undefined);
  // So does a client checked out (a transaction waiting between statements) whose backend is
  // terminated: pg-pool listens only while a client is idle. The statement that follows fails
  // instead, and the client is closed on release.
  pool.on('connect', (client) => void client.on('error', () => undefined));

  let closed: Promise<void> | null = null;

  return {
    dialect: 'pg',
    async query<R = Record<string, unknown>>(text: string, params?: unknown[], options?: QueryOptions) {
      // Not pool.query: it destroys the connection whenever a statement fails, so every version
      // conflict (a unique violation) cost a new backend, its caches and every prepared statement
      // again (~70-120 ms a conflict under 16 contended writers, more than the append itself).
      const client = await pool.connect();
      let broken: Error | undefined;
      try {
        return toResult<R>(await client.query(toQuery(text, params, options)));
      } catch (error) {
        if (!isStatementError(error)) broken = error instanceof Error ? error : new Error(String(error));
        throw error;
      } finally {
        client.release(broken);
      }
    },
    async transaction<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T> {
      const client: PoolClient = await pool.connect();
      let broken: unknown = undefined;
      try {
        await client.query('BEGIN');
        const committed: Array<() => void> = [];
        const tx: SqlExecutor = {
          async query<R = Record<string, unknown>>(text: string, params?: unknown[], options?: QueryOptions) {
            return toResult<R>(await client.query(toQuery(text, params, options)));
          },
          afterCommit: (callback) => void committed.push(callback),
        };
        const result = await work(tx);
        // PostgreSQL answers COMMIT of a transaction in which a statement failed with ROLLBACK
        // and no error; the caller must not believe its writes were kept. (PGlite throws here too.)
        const commit = await client.query('COMMIT');
        if (commit.command === 'ROLLBACK') {
          throw Object.assign(new Error('transaction rolled back at COMMIT: a statement in it had failed'), { code: '25P02' });
        }
        runCallbacks(committed);
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
