import type { UnitOfWork } from './event-store';

/**
 * The small SQL surface that the event store, projections and inboxes share. One
 * implementation wraps a `pg` pool (production), one wraps PGlite (embedded); the SQL
 * sent through both is the same.
 */
export interface SqlExecutor {
  query<R = Record<string, unknown>>(
    text: string,
    params?: unknown[],
    options?: QueryOptions,
  ): Promise<{ rows: R[]; rowCount: number }>;
  /**
   * On a transaction's executor: runs `callback` once the transaction has committed, never if it
   * rolls back (to wake readers of what it wrote only when they can see it). Absent outside a
   * transaction, where every statement commits on its own.
   */
  afterCommit?(callback: () => void): void;
}

export interface QueryOptions {
  /**
   * A hot statement of fixed text: an adapter may keep it prepared on each connection and skip
   * parsing and planning on every call. Only for statements whose tables' columns don't change
   * (a prepared SELECT * fails after an ALTER TABLE).
   */
  prepare?: boolean;
}

export interface SqlDatabase extends SqlExecutor {
  /** Runs `work` inside one transaction; commits when it resolves, rolls back when it throws. */
  transaction<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T>;
  /** `pg` or `pglite`. */
  readonly dialect: 'pg' | 'pglite';
  close(): Promise<void>;
}

/**
 * sqlOf is the SQL transaction of a unit of work that a SQL adapter opened (SqlEventStore's, or a
 * SqlDatabase transaction handed to the store): what a read model, an inbox or a checkpoint
 * writes through to commit with the events. It throws for a unit of work that holds none.
 */
export function sqlOf(unit: UnitOfWork): SqlExecutor {
  if (typeof (unit as Partial<SqlExecutor>).query !== 'function') throw new TypeError('this unit of work holds no SQL transaction');
  return unit as SqlExecutor;
}

/**
 * The key under which a store that is not a SqlEventStore exposes the SQL database it keeps beside
 * its events (KurrentEventStore: checkpoints, read models, inbox), for sqlDatabaseOf.
 */
export const SQL_DATABASE: unique symbol = Symbol.for('custos.event-store.sql-database');

/** Runs after-commit callbacks; one that throws must not turn a committed transaction into an error. */
export function runCallbacks(callbacks: Array<() => void>): void {
  for (const callback of callbacks) {
    try {
      callback();
    } catch {
      // The transaction is committed; a failing wake-up costs at most a poll interval.
    }
  }
}
