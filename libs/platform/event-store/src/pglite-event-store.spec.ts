import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventStoreContract } from './contract/event-store-contract';
import { createPgliteDatabase } from './pglite-database';
import { SqlEventStore } from './sql-event-store';

let template: string;

// initdb takes most of PGlite's start-up: run it once and give each test a copy of the result.
beforeAll(async () => {
  template = await mkdtemp(join(tmpdir(), 'custos-pglite-template-'));
  await (await createPgliteDatabase(join(template, 'data'))).close();
}, 60_000);

afterAll(async () => {
  await rm(template, { recursive: true, force: true });
});

// Each test gets its own data directory; reopen closes PGlite and starts a new one on the
// same directory, as a restart of `npm start` would.
eventStoreContract(
  'pglite',
  async () => {
    const dir = await mkdtemp(join(tmpdir(), 'custos-pglite-'));
    await cp(template, dir, { recursive: true });
    const open = async () => {
      const db = await createPgliteDatabase(join(dir, 'data'));
      return { db, store: await SqlEventStore.open(db, { context: 'contract', schema: 'custos_events' }) };
    };
    let current = await open();
    return {
      store: current.store,
      sql: { eventsTable: 'custos_events.events', query: (text: string, params?: unknown[]) => current.db.query(text, params) },
      async reopen() {
        await current.store.close();
        await current.db.close();
        current = await open();
        return current.store;
      },
      async cleanup() {
        await current.store.close();
        await current.db.close();
        await rm(dir, { recursive: true, force: true });
      },
    };
  },
  { singleConnection: true, sql: true },
);

describe('pglite database', () => {
  it('makes a query issued during another caller transaction wait for it instead of joining it', async () => {
    const db = await createPgliteDatabase();
    try {
      await db.query('CREATE TABLE probe (n integer)');
      let entered!: () => void;
      const inside = new Promise<void>((resolve) => (entered = resolve));
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      const rollback = new Error('roll back');
      const transaction = db.transaction(async (tx) => {
        await tx.query('INSERT INTO probe VALUES (1)');
        entered();
        await gate;
        throw rollback;
      });
      await inside;
      let answered = false;
      const outside = db.query<{ count: number }>('SELECT count(*)::int AS count FROM probe').then((r) => {
        answered = true;
        return r;
      });
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(answered).toBe(false);
      release();
      await expect(transaction).rejects.toBe(rollback);
      expect((await outside).rows[0].count).toBe(0);
    } finally {
      await db.close();
    }
  }, 60_000);
});
