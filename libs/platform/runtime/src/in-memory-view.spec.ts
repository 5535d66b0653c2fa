import { createPgDatabase, SqlEventStore, type CustosEvent, type NewEvent, type SqlDatabase } from '@custos/platform/event-store';
import { eventually, usePostgres } from '@custos/platform/testing';
import { InMemoryView } from './in-memory-view';

const hired = (n: number): NewEvent => ({ name: 'IdentityHired', data: { n }, actor: 'system:test' });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('InMemoryView on PostgreSQL', () => {
  const pg = usePostgres('view', { max: 10 });
  let db: SqlDatabase;
  let schema: string;
  let store: SqlEventStore;
  let view: InMemoryView | undefined;
  let applied: CustosEvent[];
  const ids = () => applied.map((e) => e.id);

  beforeEach(async () => {
    db = pg.db;
    schema = pg.schema;
    store = await SqlEventStore.open(db, { context: 'identity', schema });
    applied = [];
    view = undefined;
  });

  afterEach(async () => {
    await view?.stop();
    await store.close();
  });

  it('start() replays every stored event, in commit order, across several batches', async () => {
    const a = await store.append('identity-a', [hired(1), hired(2), hired(3)], 'no-stream');
    const b = await store.append('identity-b', [hired(4), hired(5)], 'no-stream');
    view = new InMemoryView(store, (e) => applied.push(e), { batchSize: 2, pollIntervalMs: 60_000 });

    await view.start();

    expect(ids()).toEqual([...a.events, ...b.events].map((e) => e.id));
  });

  it('events appended after start() are applied by the poll, each once', async () => {
    view = new InMemoryView(store, (e) => applied.push(e), { pollIntervalMs: 20 });
    await view.start();
    expect(applied).toEqual([]);

    const first = await store.append('identity-a', [hired(1)], 'no-stream');
    const second = await store.append('identity-b', [hired(2)], 'no-stream');

    await eventually(async () => applied.length >= 2, { timeoutMs: 5_000, intervalMs: 10, what: 'the poll to apply both events' });
    await sleep(100);
    expect(ids()).toEqual([first.events[0].id, second.events[0].id]);
  });

  it('catchUp() after an append includes that event without waiting for the poll', async () => {
    view = new InMemoryView(store, (e) => applied.push(e), { pollIntervalMs: 60_000 });
    await view.start();
    const appended = await store.append('identity-a', [hired(1)], 'no-stream');

    await view.catchUp();

    expect(ids()).toEqual([appended.events[0].id]);
    // Nothing new: a second catch-up applies nothing twice.
    await view.catchUp();
    expect(ids()).toEqual([appended.events[0].id]);
  });

  it('catchUp() reads only when the store has moved, and a pass stops at its first short batch', async () => {
    await store.append('identity-a', [hired(1), hired(2), hired(3)], 'no-stream');
    const reads = jest.spyOn(store, 'readAll');
    view = new InMemoryView(store, (e) => applied.push(e), { batchSize: 2, pollIntervalMs: 60_000 });
    await view.start();
    // Three events in batches of two: a full batch, then a short one that ends the pass.
    expect(reads).toHaveBeenCalledTimes(2);

    await view.catchUp();
    expect(reads).toHaveBeenCalledTimes(2);

    await store.append('identity-b', [hired(4)], 'no-stream');
    await view.catchUp();
    expect(applied.map((e) => (e.data as { n: number }).n)).toEqual([1, 2, 3, 4]);
    // The append also woke the view's own follower (one more read at most, then no retries).
    await sleep(200);
    const afterAppend = reads.mock.calls.length;
    expect(afterAppend).toBeLessThanOrEqual(4);
    await view.catchUp();
    expect(reads).toHaveBeenCalledTimes(afterAppend);
  });

  it('an append through the store wakes the view at once, without waiting for its poll', async () => {
    view = new InMemoryView(store, (e) => applied.push(e), { pollIntervalMs: 60_000 });
    await view.start();
    const appended = await store.append('identity-a', [hired(1)], 'no-stream');
    // Inside a transaction: the view is woken once it commits.
    const inTx = await db.transaction((tx) => store.append('identity-b', [hired(2)], 'no-stream', { tx }));

    await eventually(async () => applied.length === 2, { timeoutMs: 10_000, intervalMs: 5, what: 'both appends applied long before the one-minute poll' });
    expect(ids()).toEqual([appended.events[0].id, inTx.events[0].id]);
  });

  it('concurrent catchUp() calls apply each event once', async () => {
    view = new InMemoryView(store, (e) => applied.push(e), { pollIntervalMs: 60_000 });
    await view.start();
    await store.append('identity-a', [hired(1), hired(2), hired(3)], 'no-stream');

    await Promise.all([view.catchUp(), view.catchUp(), view.catchUp()]);

    expect(applied.map((e) => e.streamversion)).toEqual([1, 2, 3]);
  });

  it('catchUp() waits for a transaction open elsewhere (begun before the append) and resolves once it commits, with the appended event applied', async () => {
    view = new InMemoryView(store, (e) => applied.push(e), { pollIntervalMs: 60_000 });
    await view.start();

    // Another process: its own pool and store on the same tables, with a transaction that
    // writes an event and stays open.
    const otherDb = createPgDatabase(pg.url, { max: 2, applicationName: 'view-spec-other' });
    try {
      const otherStore = await SqlEventStore.open(otherDb, { context: 'identity', schema });
      let opened!: () => void;
      const isOpen = new Promise<void>((resolve) => (opened = resolve));
      let commit!: () => void;
      const released = new Promise<void>((resolve) => (commit = resolve));
      let openEventId = '';
      const openTx = otherDb.transaction(async (tx) => {
        openEventId = (await otherStore.append('identity-open', [hired(0)], 'no-stream', { tx })).events[0].id;
        opened();
        await released;
      });
      await isOpen;

      const appended = await store.append('identity-after', [hired(1)], 'no-stream');
      const appendedId = appended.events[0].id;

      // With a short timeout it gives up and returns without the event (the poll would apply it later).
      await view.catchUp(100);
      expect(ids()).not.toContain(appendedId);

      let committedAt = 0;
      const committer = setTimeout(() => {
        committedAt = Date.now();
        commit();
      }, 300);
      const started = Date.now();
      try {
        await view.catchUp();
      } finally {
        clearTimeout(committer);
        commit();
        await openTx;
      }
      const resolvedAt = Date.now();

      expect(committedAt).toBeGreaterThan(0);
      expect(resolvedAt).toBeGreaterThanOrEqual(committedAt);
      expect(resolvedAt - started).toBeGreaterThanOrEqual(250);
      expect(ids()).toContain(appendedId);
      // The open transaction's event commits first in the log order: it comes first, and once.
      expect(ids()).toEqual([openEventId, appendedId]);
      await otherStore.close();
    } finally {
      await otherDb.close();
    }
  });

  it('stop() stops the polling: events appended afterwards are not applied', async () => {
    view = new InMemoryView(store, (e) => applied.push(e), { pollIntervalMs: 20 });
    await view.start();
    await store.append('identity-a', [hired(1)], 'no-stream');
    await eventually(async () => applied.length === 1, { timeoutMs: 5_000, intervalMs: 10, what: 'the first event' });

    await view.stop();
    await store.append('identity-b', [hired(2)], 'no-stream');
    await sleep(200);

    expect(applied).toHaveLength(1);
  });

  it('reports a failing apply to onError and keeps polling', async () => {
    const errors: unknown[] = [];
    let failures = 1;
    view = new InMemoryView(
      store,
      (e) => {
        if (failures > 0) {
          failures -= 1;
          throw new Error('apply failed');
        }
        applied.push(e);
      },
      { pollIntervalMs: 20, onError: (error) => errors.push(error) },
    );
    await view.start();
    const appended = await store.append('identity-a', [hired(1)], 'no-stream');

    await eventually(async () => applied.length === 1, { timeoutMs: 5_000, intervalMs: 10, what: 'the retried event' });
    expect(ids()).toEqual([appended.events[0].id]);
    expect(errors).toEqual([expect.objectContaining({ message: 'apply failed' })]);
  });
});
