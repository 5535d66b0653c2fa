import { createPgliteDatabase, type SqlDatabase, type SqlExecutor } from '@custos/platform/event-store';
import { usePostgres } from '@custos/platform/testing';
import { Inbox } from './inbox';

async function setUp(db: SqlDatabase, schema: string): Promise<Inbox> {
  const inbox = new Inbox(db, schema);
  await inbox.migrate();
  await db.query(`CREATE TABLE ${schema}.effects (consumer text NOT NULL, message_id text NOT NULL)`);
  return inbox;
}

const effect = (schema: string, consumer: string, messageId: string) => async (tx: SqlExecutor) => {
  await tx.query(`INSERT INTO ${schema}.effects (consumer, message_id) VALUES ($1, $2)`, [consumer, messageId]);
};

async function effectCount(db: SqlDatabase, schema: string): Promise<number> {
  const { rows } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${schema}.effects`);
  return rows[0].n;
}

describe('Inbox on PostgreSQL', () => {
  const pg = usePostgres('inbox', { max: 12 });
  let db: SqlDatabase;
  let schema: string;
  let inbox: Inbox;

  beforeEach(async () => {
    db = pg.db;
    schema = pg.schema;
    inbox = await setUp(db, schema);
  });

  it('once() runs the effect once per (consumer, message) and answers false the second time', async () => {
    expect(await inbox.once('birthright', 'msg-1', effect(schema, 'birthright', 'msg-1'))).toBe(true);
    let again = 0;
    expect(await inbox.once('birthright', 'msg-1', async () => void (again += 1))).toBe(false);
    expect(again).toBe(0);
    expect(await effectCount(db, schema)).toBe(1);

    // The pair is the key: another consumer of the same message, or another message, runs.
    expect(await inbox.once('audit', 'msg-1', effect(schema, 'audit', 'msg-1'))).toBe(true);
    expect(await inbox.once('birthright', 'msg-2', effect(schema, 'birthright', 'msg-2'))).toBe(true);
    expect(await effectCount(db, schema)).toBe(3);
  });

  it('an effect that throws leaves no claim and none of its writes, so the message can run again', async () => {
    await expect(
      inbox.once('birthright', 'msg-x', async (tx) => {
        await effect(schema, 'birthright', 'msg-x')(tx);
        throw new Error('handler failed');
      }),
    ).rejects.toThrow('handler failed');
    const { rows } = await db.query(`SELECT * FROM ${schema}.inbox`);
    expect(rows).toEqual([]);
    expect(await effectCount(db, schema)).toBe(0);

    expect(await inbox.once('birthright', 'msg-x', effect(schema, 'birthright', 'msg-x'))).toBe(true);
    expect(await effectCount(db, schema)).toBe(1);
  });

  it('claim() inside a caller transaction that rolls back claims nothing', async () => {
    await expect(
      db.transaction(async (tx) => {
        expect(await inbox.claim(tx, 'c', 'm')).toBe(true);
        expect(await inbox.claim(tx, 'c', 'm')).toBe(false);
        throw new Error('rolled back');
      }),
    ).rejects.toThrow('rolled back');
    expect(await db.transaction((tx) => inbox.claim(tx, 'c', 'm'))).toBe(true);
  });

  it('claimMany() claims in one statement only the messages not handled before, each once', async () => {
    const claimMany = (consumer: string, ids: string[]) => db.transaction((tx) => inbox.claimMany(tx, consumer, ids));
    expect(await db.transaction((tx) => inbox.claim(tx, 'birthright', 'msg-1'))).toBe(true);
    // msg-1 was handled before; msg-2, given twice, is claimed once.
    expect(await claimMany('birthright', ['msg-1', 'msg-2', 'msg-3', 'msg-2'])).toEqual(new Set(['msg-2', 'msg-3']));
    expect(await claimMany('birthright', ['msg-3', 'msg-4'])).toEqual(new Set(['msg-4']));
    expect(await claimMany('audit', ['msg-1'])).toEqual(new Set(['msg-1']));
    expect(await claimMany('birthright', [])).toEqual(new Set());

    // Rolled back with its transaction, like claim().
    await expect(
      db.transaction(async (tx) => {
        expect(await inbox.claimMany(tx, 'birthright', ['msg-5'])).toEqual(new Set(['msg-5']));
        throw new Error('rolled back');
      }),
    ).rejects.toThrow('rolled back');
    expect(await claimMany('birthright', ['msg-4', 'msg-5'])).toEqual(new Set(['msg-5']));
    const { rows } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${schema}.inbox`);
    expect(rows[0].n).toBe(6);
  });

  it('concurrent once() calls for the same message run exactly one effect', async () => {
    const attempts = 8;
    const results = await Promise.all(
      Array.from({ length: attempts }, () =>
        inbox.once('birthright', 'msg-race', async (tx) => {
          await effect(schema, 'birthright', 'msg-race')(tx);
          // Keep the transaction open so the other claims run into it.
          await new Promise((resolve) => setTimeout(resolve, 50));
        }),
      ),
    );
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(await effectCount(db, schema)).toBe(1);
  });

  it('a concurrent once() waiting on a claim whose effect fails runs the effect itself', async () => {
    let releaseFirst!: () => void;
    const firstHolds = new Promise<void>((resolve) => (releaseFirst = resolve));
    let firstClaimed!: () => void;
    const claimed = new Promise<void>((resolve) => (firstClaimed = resolve));
    const first = inbox.once('c', 'm', async () => {
      firstClaimed();
      await firstHolds;
      throw new Error('first failed');
    });
    await claimed;
    const second = inbox.once('c', 'm', effect(schema, 'c', 'm'));
    await new Promise((resolve) => setTimeout(resolve, 100));
    releaseFirst();
    await expect(first).rejects.toThrow('first failed');
    expect(await second).toBe(true);
    expect(await effectCount(db, schema)).toBe(1);
  });
});

describe('Inbox on PGlite', () => {
  it('runs the effect once per (consumer, message), and claims many at once', async () => {
    const db = await createPgliteDatabase();
    try {
      const inbox = await setUp(db, 'ctx');
      expect(await inbox.once('c', 'm', effect('ctx', 'c', 'm'))).toBe(true);
      expect(await inbox.once('c', 'm', effect('ctx', 'c', 'm'))).toBe(false);
      expect(await effectCount(db, 'ctx')).toBe(1);
      expect(await db.transaction((tx) => inbox.claimMany(tx, 'c', ['m', 'n', 'n']))).toEqual(new Set(['n']));
    } finally {
      await db.close();
    }
  }, 60_000);
});
