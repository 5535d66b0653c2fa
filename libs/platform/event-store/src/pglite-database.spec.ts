import { createPgliteDatabase } from './pglite-database';
import type { SqlDatabase } from './sql';

describe('PGlite database: one connection, shared by the async flow of a transaction', () => {
  let db: SqlDatabase;

  // Opening PGlite loads and starts its wasm: 3-4 s on a loaded 2-core machine.
  beforeAll(async () => {
    db = await createPgliteDatabase();
    await db.query('CREATE TABLE t (v int)');
  }, 60_000);

  afterAll(() => db.close());
  beforeEach(() => db.query('DELETE FROM t'));

  it('answers a query whose result it cannot pass back with an error, and goes on answering', async () => {
    const deep = '['.repeat(3000) + ']'.repeat(3000);
    await expect(db.query('SELECT $1::jsonb AS v', [deep])).rejects.toThrow(/nests deeper/);
    await expect(db.transaction((tx) => tx.query('SELECT $1::jsonb AS v', [deep]))).rejects.toThrow(/nests deeper/);
    expect((await db.query<{ one: number }>('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
  });

  it('refuses a parameter it cannot send to the worker, and goes on answering', async () => {
    await expect(db.query('SELECT $1::text AS v', [() => 1])).rejects.toThrow();
    expect((await db.query<{ one: number }>('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
  });

  it('lets code inside a transaction use the database itself instead of waiting for its own transaction', async () => {
    await db.transaction(async (tx) => {
      await tx.query('INSERT INTO t VALUES (1)');
      const seen = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM t');
      expect(seen.rows[0].n).toBe(1);
    });
  });

  it('turns a nested transaction into a savepoint: its failure rolls back only itself', async () => {
    await db.transaction(async (tx) => {
      await tx.query('INSERT INTO t VALUES (1)');
      await expect(
        db.transaction(async (inner) => {
          await inner.query('INSERT INTO t VALUES (2)');
          throw new Error('inner failure');
        }),
      ).rejects.toThrow('inner failure');
      await db.transaction((inner) => inner.query('INSERT INTO t VALUES (3)'));
    });
    const { rows } = await db.query<{ v: number }>('SELECT v FROM t ORDER BY v');
    expect(rows.map((r) => r.v)).toEqual([1, 3]);
  });

  it('rolls back the nested work with the outer transaction', async () => {
    await expect(
      db.transaction(async () => {
        await db.transaction((inner) => inner.query('INSERT INTO t VALUES (4)'));
        throw new Error('outer failure');
      }),
    ).rejects.toThrow('outer failure');
    expect((await db.query('SELECT * FROM t')).rows).toHaveLength(0);
  });

  it('keeps other callers out of an open transaction: they wait, then see only committed data', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const writer = db.transaction(async (tx) => {
      await tx.query('INSERT INTO t VALUES (5)');
      await gate;
    });
    await new Promise((r) => setTimeout(r, 20));
    const reader = db.query<{ n: number }>('SELECT count(*)::int AS n FROM t');
    release();
    await writer;
    expect((await reader).rows[0].n).toBe(1);
  });
});
