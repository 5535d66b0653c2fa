import { sqlOf, START, type CustosEvent, type EventStore, type SqlDatabase, type SqlExecutor, type SubscribeOptions, type Subscription } from '@custos/platform/event-store';

/** A view class as every SqlProjection is built: from a database, a store and the schema of its tables. */
type ViewClass = new (db: SqlDatabase, store: EventStore, schema: string) => SqlProjection;

/**
 * SqlProjection is a read model kept in SQL tables of a context's schema: a subscription to the
 * store whose checkpoint commits with the rows each batch writes (the subscription's unit of
 * work, reached with sqlOf), so the view is exact and rebuilds by replay from its name's start.
 * A view names its subscription (a new name replays from the beginning), creates its tables
 * (migrate) and applies events (project); starting, catching up and stopping are written here once.
 */
export abstract class SqlProjection {
  private subscription?: Subscription;

  constructor(
    protected readonly db: SqlDatabase,
    protected readonly store: EventStore,
    protected readonly schema: string,
    /** The subscription's name: its checkpoint is stored under it. */
    private readonly name: string,
    /** Which streams it reads (streamPrefixes) and how often it polls for other processes' appends. */
    private readonly options: Pick<SubscribeOptions, 'streamPrefixes' | 'pollIntervalMs'> = {},
  ) {}

  abstract migrate(x?: SqlExecutor): Promise<void>;

  /** Applies a batch of events inside the subscription's transaction; a redelivered event must change nothing. */
  abstract project(events: readonly CustosEvent[], tx: SqlExecutor): Promise<void>;

  start(onError: (error: unknown) => void): void {
    this.subscription = this.store.subscribe(this.name, (events, tx) => this.project(events, sqlOf(tx)), { onError, pollIntervalMs: 50, ...this.options });
  }

  /** Resolves once the view reflects everything stored so far. */
  async caughtUp(): Promise<void> {
    await this.subscription?.caughtUp();
  }

  async stop(): Promise<void> {
    await this.subscription?.stop();
  }

  /**
   * rebuildDifferences is the rebuild-equivalence check of a view: it replays the whole store, as
   * the view's subscription reads it (its stream prefixes, in order, one transaction per page),
   * into a fresh copy of the view (the same class, built on a scratch schema), then compares every
   * table the copy made with the live one of the same name, row for row. Returns the differences
   * (none: a rebuild gives exactly the live read model). Call it once the live view has caught up
   * with a store nobody is appending to; the scratch schema is dropped after.
   */
  async rebuildDifferences(pageSize = 1000): Promise<string[]> {
    const scratch = `${this.schema}_rebuilt`;
    await this.db.query(`DROP SCHEMA IF EXISTS ${scratch} CASCADE`);
    await this.db.query(`CREATE SCHEMA ${scratch}`);
    try {
      const copy = new (this.constructor as ViewClass)(this.db, this.store, scratch);
      await this.db.transaction((tx) => copy.migrate(tx));
      const prefixes = this.options.streamPrefixes;
      for (let from = START; ; ) {
        const { events, checkpoint } = await this.store.readAll(from, pageSize);
        if (events.length === 0) break;
        const selected = prefixes ? events.filter((e) => prefixes.some((p) => e.subject.startsWith(p))) : events;
        if (selected.length > 0) await this.db.transaction((tx) => copy.project(selected, tx));
        from = checkpoint;
      }
      const { rows: tables } = await this.db.query<{ name: string }>(`SELECT tablename AS name FROM pg_tables WHERE schemaname = $1 ORDER BY tablename`, [scratch]);
      const differences: string[] = [];
      for (const { name } of tables) {
        const rowsOf = async (schema: string) =>
          (await this.db.query<{ row: string }>(`SELECT to_jsonb(t)::text AS row FROM ${schema}.${name} t ORDER BY 1`)).rows.map((r) => r.row);
        const [live, rebuilt] = await Promise.all([rowsOf(this.schema), rowsOf(scratch)]);
        const first = live.findIndex((row, i) => row !== rebuilt[i]);
        if (live.length !== rebuilt.length || first >= 0) {
          const at = first >= 0 ? first : Math.min(live.length, rebuilt.length);
          differences.push(`${this.name}: ${name}: ${live.length} live rows, ${rebuilt.length} rebuilt; first difference: live ${live[at] ?? '(none)'} / rebuilt ${rebuilt[at] ?? '(none)'}`);
        }
      }
      return differences;
    } finally {
      await this.db.query(`DROP SCHEMA IF EXISTS ${scratch} CASCADE`);
    }
  }
}
