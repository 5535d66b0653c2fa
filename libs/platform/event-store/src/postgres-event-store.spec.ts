import { randomUUID } from 'node:crypto';
import { createTestDatabase, type TestDatabase } from '@custos/platform/testing';
import { eventStoreContract } from './contract/event-store-contract';
import { createPgDatabase } from './pg-database';
import { SqlEventStore } from './sql-event-store';

let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase('custos_event_store');
}, 120_000);

afterAll(async () => {
  await database?.drop();
}, 60_000);

function newSchema(): string {
  return `es_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
}

// Each test gets its own schema in this file's database, so tests never see each other's events.
eventStoreContract('postgres', async () => {
  const schema = newSchema();
  const open = async () => {
    const db = createPgDatabase(database.url, { max: 20, applicationName: 'custos-contract' });
    return { db, store: await SqlEventStore.open(db, { context: 'contract', schema }) };
  };
  let current = await open();
  return {
    store: current.store,
    sql: { eventsTable: `${schema}.events`, query: (text: string, params?: unknown[]) => current.db.query(text, params) },
    async reopen() {
      await current.store.close();
      await current.db.close();
      current = await open();
      return current.store;
    },
    async cleanup() {
      await current.store.close();
      await current.db.close();
    },
  };
}, { sql: true });

describe('postgres event store migration', () => {
  it('lets several processes open the same new schema at once', async () => {
    const schema = newSchema();
    const dbs = Array.from({ length: 4 }, () => createPgDatabase(database.url, { max: 2 }));
    try {
      const stores = await Promise.all(dbs.map((db) => SqlEventStore.open(db, { context: 'contract', schema })));
      const appended = await stores[0].append('identity-1', [{ name: 'IdentityHired', data: {}, actor: 'system:test' }], 'no-stream');
      expect(await stores[3].readStream('identity-1')).toEqual(appended.events);
      // Opening again on a populated schema changes nothing.
      const again = await SqlEventStore.open(dbs[1], { context: 'contract', schema });
      expect(await again.readStream('identity-1')).toEqual(appended.events);
    } finally {
      await Promise.all(dbs.map((db) => db.close()));
    }
  });
});

describe('postgres connections', () => {
  it('never plan parallel workers, whether the statement runs alone or in a transaction', async () => {
    const db = createPgDatabase(database.url, { max: 2 });
    try {
      const settings = await Promise.all([
        db.query<{ workers: string }>('SHOW max_parallel_workers_per_gather'),
        db.query<{ workers: string }>('SHOW max_parallel_workers_per_gather'),
        db.transaction((tx) => tx.query<{ workers: string }>('SHOW max_parallel_workers_per_gather')),
      ]);
      expect(settings.map((s) => Object.values(s.rows[0])[0])).toEqual(['0', '0', '0']);
    } finally {
      await db.close();
    }
  });

  it('keeps a connection whose statement failed, and replaces one the server closed', async () => {
    const db = createPgDatabase(database.url, { max: 1 });
    const pid = async () => (await db.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0].pid;
    try {
      const first = await pid();
      // A failed statement (a version conflict is a unique violation) must not cost a new backend.
      await expect(db.query('SELECT 1 / 0')).rejects.toMatchObject({ code: '22012' });
      const store = await SqlEventStore.open(db, { context: 'contract', schema: newSchema() });
      const id = randomUUID();
      await store.append('identity-1', [{ id, name: 'IdentityHired', data: {}, actor: 'system:test' }], 'no-stream');
      await expect(store.append('identity-2', [{ id, name: 'IdentityHired', data: {}, actor: 'system:test' }], 'no-stream')).rejects.toMatchObject({
        code: '23505',
      });
      expect(await pid()).toBe(first);

      await expect(db.query('SELECT pg_terminate_backend(pg_backend_pid())')).rejects.toThrow();
      const second = await pid();
      expect(second).not.toBe(first);
    } finally {
      await db.close();
    }
  });

  it('keeps the options of the connection string beside its own', async () => {
    const url = new URL(database.url);
    url.searchParams.set('options', '-c statement_timeout=4321');
    const db = createPgDatabase(url.toString(), { max: 1 });
    try {
      const { rows } = await db.query<{ timeout: string; workers: string }>(
        `SELECT current_setting('statement_timeout') AS timeout, current_setting('max_parallel_workers_per_gather') AS workers`,
      );
      expect(rows[0]).toEqual({ timeout: '4321ms', workers: '0' });
    } finally {
      await db.close();
    }
  });
});
