import { SqlEventStore, type CustosEvent, type EventStore, type SqlDatabase, type SqlExecutor } from '@custos/platform/event-store';
import { usePostgres } from '@custos/platform/testing';
import { SqlProjection } from './sql-projection';

/** A view of how many events each stream of the `thing-` category has, and the last one's name. */
class ThingsView extends SqlProjection {
  constructor(db: SqlDatabase, store: EventStore, schema: string) {
    super(db, store, schema, 'things-view', { streamPrefixes: ['thing-'] });
  }

  async migrate(x: SqlExecutor = this.db): Promise<void> {
    await x.query(`CREATE TABLE IF NOT EXISTS ${this.schema}.things (stream text PRIMARY KEY, events integer NOT NULL, last text NOT NULL, seen timestamptz)`);
  }

  async project(events: readonly CustosEvent[], tx: SqlExecutor): Promise<void> {
    for (const e of events) {
      await tx.query(
        `INSERT INTO ${this.schema}.things (stream, events, last, seen) VALUES ($1, 1, $2, ${this.seen()}) ON CONFLICT (stream) DO UPDATE SET events = ${this.schema}.things.events + 1, last = $2`,
        [e.subject, e.name],
      );
    }
  }

  /** When the view saw the stream first: the event's own time, as a view must (what it read, not when). */
  protected seen(): string {
    return 'NULL';
  }
}

/** The same view with a classic mistake: it keeps the clock of its own run, which a rebuild cannot give again. */
class ClockedThingsView extends ThingsView {
  protected override seen(): string {
    return 'clock_timestamp()';
  }
}

describe('SqlProjection.rebuildDifferences: a rebuild from the store equals the live read model', () => {
  const pg = usePostgres('sql_projection');
  let store: SqlEventStore;

  beforeEach(async () => {
    store = await SqlEventStore.open(pg.db, { context: 'things', schema: pg.schema });
  });

  afterEach(async () => {
    await store.close();
  });

  async function live(View: typeof ThingsView): Promise<ThingsView> {
    const view = new View(pg.db, store, pg.schema);
    await view.migrate();
    view.start((error) => {
      throw error;
    });
    for (let batch = 0; batch < 5; batch++) {
      for (let i = 0; i < 7; i++) {
        await store.append(`thing-${i}`, [{ name: `Thing${batch}`, data: { batch }, actor: 'test' }], batch === 0 ? 'no-stream' : batch);
      }
      await store.append(`other-${batch}`, [{ name: 'Other', data: {}, actor: 'test' }], 'no-stream');
      await view.caughtUp();
    }
    return view;
  }

  it('finds none for a view that folds only what it reads', async () => {
    const view = await live(ThingsView);
    expect(await view.rebuildDifferences(3)).toEqual([]);
    await view.stop();
    const { rows } = await pg.db.query(`SELECT count(*)::int AS n FROM pg_namespace WHERE nspname = $1`, [`${pg.schema}_rebuilt`]);
    expect(rows).toEqual([{ n: 0 }]);
  });

  it('names the table and the first row that differ for a view that keeps its own clock', async () => {
    const view = await live(ClockedThingsView);
    const differences = await view.rebuildDifferences();
    await view.stop();
    expect(differences).toHaveLength(1);
    expect(differences[0]).toMatch(/^things-view: things: 7 live rows, 7 rebuilt; first difference: live \{.*"stream": "thing-0"/);
  });
});
