import { sqlOf, type CustosEvent, type EventStore, type SqlDatabase, type SqlExecutor, type SubscribeOptions, type Subscription } from '@custos/platform/event-store';

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
}
