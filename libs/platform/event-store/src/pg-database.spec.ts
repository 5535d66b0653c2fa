import { createTestDatabase, type TestDatabase } from '@custos/platform/testing';
import { createPgDatabase } from './pg-database';
import type { SqlDatabase } from './sql';

describe('createPgDatabase', () => {
  let database: TestDatabase;
  let db: SqlDatabase;
  let admin: SqlDatabase;

  beforeAll(async () => {
    database = await createTestDatabase('custos_pgdb');
    db = createPgDatabase(database.url, { max: 2, applicationName: 'custos-pgdb-spec' });
    admin = createPgDatabase(database.url, { max: 1, applicationName: 'custos-pgdb-admin' });
  }, 60_000);

  afterAll(async () => {
    await db?.close();
    await admin?.close();
    await database?.drop();
  }, 60_000);

  it('survives the backend of a transaction being terminated while the transaction waits between statements: the next statement fails, the process does not crash, the pool goes on', async () => {
    const crashes: unknown[] = [];
    const onUncaught = (error: unknown) => crashes.push(error);
    process.on('uncaughtException', onUncaught);
    try {
      const outcome = db.transaction(async (tx) => {
        const { rows } = await tx.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
        await admin.query('SELECT pg_terminate_backend($1)', [rows[0].pid]);
        // The backend goes while this transaction is idle in it: the client emits an error.
        await new Promise((resolve) => setTimeout(resolve, 300));
        await tx.query('SELECT 1');
      });
      await expect(outcome).rejects.toThrow();
      expect(crashes).toEqual([]);
      // The broken client was closed on release; the next work gets a working one.
      expect((await db.query<{ one: number }>('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    } finally {
      process.off('uncaughtException', onUncaught);
    }
  }, 30_000);
});
