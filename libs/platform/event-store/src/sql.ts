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
