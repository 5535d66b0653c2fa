import { createPgDatabase, createPgliteDatabase, type SqlDatabase, type SqlExecutor } from '@custos/platform/event-store';
import { eventually, usePostgres } from '@custos/platform/testing';
import { DurableScheduler, type JobHandler } from './scheduler';

const T0 = new Date('2030-01-01T00:00:00.000Z');
const seconds = (n: number) => new Date(T0.getTime() + n * 1000);

/** A job's effect, written through the job's transaction, so a rolled-back run leaves no row. */
async function createEffects(db: SqlDatabase, schema: string): Promise<void> {
  await db.query(`CREATE TABLE ${schema}.effects (id bigserial PRIMARY KEY, key text NOT NULL, payload jsonb NOT NULL)`);
}

async function effects(db: SqlDatabase, schema: string): Promise<Array<{ key: string; payload: unknown }>> {
  const { rows } = await db.query<{ key: string; payload: unknown }>(`SELECT key, payload FROM ${schema}.effects ORDER BY id`);
  return rows.map((r) => ({ key: r.key, payload: typeof r.payload === 'string' ? JSON.parse(r.payload) : r.payload }));
}

const record =
  (schema: string): JobHandler =>
  async (payload, tx, job) => {
    await tx.query(`INSERT INTO ${schema}.effects (key, payload) VALUES ($1, $2)`, [job.key, JSON.stringify(payload)]);
  };

async function jobRow(db: SqlDatabase, schema: string, key: string) {
  const { rows } = await db.query<{ attempts: number; last_error: string | null; due_at: Date | string }>(
    `SELECT attempts, last_error, due_at FROM ${schema}.scheduled_jobs WHERE key = $1`,
    [key],
  );
  return rows[0] ? { attempts: rows[0].attempts, lastError: rows[0].last_error, dueAt: new Date(rows[0].due_at) } : undefined;
}

describe('DurableScheduler on PostgreSQL', () => {
  const pg = usePostgres('sch', { max: 10 });
  let db: SqlDatabase;
  let schema: string;
  let now: Date;
  let scheduler: DurableScheduler;
  let errors: Array<{ error: unknown; job: string }>;

  beforeEach(async () => {
    db = pg.db;
    schema = pg.schema;
    now = T0;
    errors = [];
    scheduler = new DurableScheduler(db, schema, () => now, { onError: (error, job) => errors.push({ error, job }) });
    await scheduler.migrate();
    await createEffects(db, schema);
    scheduler.use({ remind: record(schema) });
  });

  afterEach(async () => {
    await scheduler.stop();
  });

  const schedule = (key: string, dueAt: Date, payload: unknown, kind = 'remind') =>
    db.transaction((tx) => scheduler.schedule(tx, { key, kind, dueAt, payload }));

  it('runs a job once when it falls due, and not before', async () => {
    await schedule('job-1', seconds(60), { n: 1 });

    expect(await scheduler.runDue()).toBe(0);
    now = seconds(59.999);
    expect(await scheduler.runDue()).toBe(0);
    expect(await effects(db, schema)).toEqual([]);

    now = seconds(60);
    expect(await scheduler.runDue()).toBe(1);
    expect(await effects(db, schema)).toEqual([{ key: 'job-1', payload: { n: 1 } }]);

    now = seconds(3600);
    expect(await scheduler.runDue()).toBe(0);
    expect(await effects(db, schema)).toHaveLength(1);
    expect(await scheduler.pending()).toEqual([]);
  });

  it('hands the handler its payload, key and due time, and runs due jobs oldest first', async () => {
    const seen: Array<{ key: string; dueAt: string; payload: unknown }> = [];
    scheduler.use({ remind: async (payload, _tx, job) => void seen.push({ key: job.key, dueAt: job.dueAt.toISOString(), payload }) });
    await schedule('later', seconds(20), { which: 'later' });
    await schedule('earlier', seconds(10), { which: 'earlier' });
    await schedule('future', seconds(100), { which: 'future' });

    now = seconds(30);
    expect(await scheduler.runDue()).toBe(2);
    expect(seen).toEqual([
      { key: 'earlier', dueAt: seconds(10).toISOString(), payload: { which: 'earlier' } },
      { key: 'later', dueAt: seconds(20).toISOString(), payload: { which: 'later' } },
    ]);
    expect((await scheduler.pending()).map((j) => j.key)).toEqual(['future']);
  });

  it('rescheduling the same key supersedes the pending job: only the latest payload runs, at the latest due time', async () => {
    await schedule('expire:g1', seconds(10), { version: 1 });
    await schedule('expire:g1', seconds(20), { version: 2 });

    expect(await scheduler.pending('expire:')).toEqual([{ key: 'expire:g1', kind: 'remind', dueAt: seconds(20), payload: { version: 2 } }]);
    now = seconds(10);
    expect(await scheduler.runDue()).toBe(0);
    now = seconds(20);
    expect(await scheduler.runDue()).toBe(1);
    expect(await effects(db, schema)).toEqual([{ key: 'expire:g1', payload: { version: 2 } }]);
    expect(await scheduler.runDue()).toBe(0);
  });

  it('rescheduling a job that has failed resets its attempts', async () => {
    scheduler.use({ remind: async () => Promise.reject(new Error('down')) });
    await schedule('j', seconds(0), {});
    await scheduler.runDue();
    expect((await jobRow(db, schema, 'j'))?.attempts).toBe(1);

    await schedule('j', seconds(5), { again: true });
    expect(await jobRow(db, schema, 'j')).toEqual({ attempts: 0, lastError: null, dueAt: seconds(5) });
  });

  it('scheduleMany schedules in one statement as schedule on each in turn: a pending key is superseded and its attempts reset, a repeated key keeps its last job', async () => {
    scheduler.use({ remind: async () => Promise.reject(new Error('down')) });
    await schedule('failed', seconds(0), { version: 1 });
    await scheduler.runDue();
    await schedule('pending', seconds(50), { version: 1 });
    const statements: string[] = [];

    await db.transaction((tx) =>
      scheduler.scheduleMany(
        { query: (text, params, options) => (statements.push(text), tx.query(text, params, options)) },
        [
          { key: 'failed', kind: 'remind', dueAt: seconds(30), payload: { version: 2 } },
          { key: 'pending', kind: 'other', dueAt: seconds(20), payload: { version: 2, nested: { list: [1, 'two'] } } },
          { key: 'new', kind: 'remind', dueAt: seconds(10), payload: { version: 1 } },
          { key: 'new', kind: 'remind', dueAt: seconds(40), payload: null },
        ],
      ),
    );

    expect(statements).toHaveLength(1);
    expect(await scheduler.pending()).toEqual([
      { key: 'pending', kind: 'other', dueAt: seconds(20), payload: { version: 2, nested: { list: [1, 'two'] } } },
      { key: 'failed', kind: 'remind', dueAt: seconds(30), payload: { version: 2 } },
      { key: 'new', kind: 'remind', dueAt: seconds(40), payload: null },
    ]);
    expect(await jobRow(db, schema, 'failed')).toEqual({ attempts: 0, lastError: null, dueAt: seconds(30) });
    await db.transaction((tx) => scheduler.scheduleMany(tx, []));
    expect(await scheduler.pending()).toHaveLength(3);
  });

  it('jobs scheduled by scheduleMany inside a transaction that rolls back do not exist', async () => {
    await expect(
      db.transaction(async (tx) => {
        await scheduler.scheduleMany(tx, [
          { key: 'ghost-1', kind: 'remind', dueAt: seconds(1), payload: {} },
          { key: 'ghost-2', kind: 'remind', dueAt: seconds(2), payload: {} },
        ]);
        throw new Error('cause rolled back');
      }),
    ).rejects.toThrow('cause rolled back');
    expect(await scheduler.pending()).toEqual([]);
  });

  it('cancel drops the pending job (true once, then false) so it never runs', async () => {
    await schedule('job-c', seconds(10), {});
    await schedule('job-keep', seconds(10), {});

    expect(await db.transaction((tx) => scheduler.cancel(tx, 'job-c'))).toBe(true);
    expect(await db.transaction((tx) => scheduler.cancel(tx, 'job-c'))).toBe(false);
    now = seconds(10);
    expect(await scheduler.runDue()).toBe(1);
    expect((await effects(db, schema)).map((e) => e.key)).toEqual(['job-keep']);
  });

  it('a cancel inside a transaction that rolls back leaves the job in place', async () => {
    await schedule('job-r', seconds(10), {});
    await expect(
      db.transaction(async (tx) => {
        await scheduler.cancel(tx, 'job-r');
        throw new Error('cause rolled back');
      }),
    ).rejects.toThrow('cause rolled back');
    expect((await scheduler.pending()).map((j) => j.key)).toEqual(['job-r']);
  });

  it('a job scheduled inside a transaction that rolls back does not exist', async () => {
    await expect(
      db.transaction(async (tx) => {
        await scheduler.schedule(tx, { key: 'ghost', kind: 'remind', dueAt: seconds(1), payload: {} });
        throw new Error('cause rolled back');
      }),
    ).rejects.toThrow('cause rolled back');

    expect(await scheduler.pending()).toEqual([]);
    now = seconds(10);
    expect(await scheduler.runDue()).toBe(0);
    expect(await effects(db, schema)).toEqual([]);
  });

  it('a handler that throws keeps its job with attempts+1, the error and a later due time, and its partial writes roll back', async () => {
    let calls = 0;
    scheduler.use({
      remind: async (payload, tx, job) => {
        calls += 1;
        await record(schema)(payload, tx, job);
        if (calls <= 2) throw new Error(`failure ${calls}`);
      },
    });
    await schedule('flaky', seconds(0), { n: 1 });

    expect(await scheduler.runDue()).toBe(0);
    expect(await jobRow(db, schema, 'flaky')).toEqual({ attempts: 1, lastError: 'failure 1', dueAt: seconds(1) });
    expect(await effects(db, schema)).toEqual([]);
    expect(errors.map((e) => [e.job, (e.error as Error).message])).toEqual([['flaky', 'failure 1']]);

    // Not due again until its back-off has passed.
    expect(await scheduler.runDue()).toBe(0);
    expect(calls).toBe(1);

    now = seconds(1);
    expect(await scheduler.runDue()).toBe(0);
    expect(await jobRow(db, schema, 'flaky')).toEqual({ attempts: 2, lastError: 'failure 2', dueAt: seconds(3) });
    expect(await effects(db, schema)).toEqual([]);

    now = seconds(3);
    expect(await scheduler.runDue()).toBe(1);
    expect(calls).toBe(3);
    expect(await effects(db, schema)).toEqual([{ key: 'flaky', payload: { n: 1 } }]);
    expect(await jobRow(db, schema, 'flaky')).toBeUndefined();
  });

  it('a failing job does not stop the other due jobs of the same pass', async () => {
    scheduler.use({
      remind: async (payload, tx, job) => {
        if (job.key === 'bad') throw new Error('bad job');
        await record(schema)(payload, tx, job);
      },
    });
    await schedule('bad', seconds(0), {});
    await schedule('good', seconds(1), {});
    now = seconds(2);
    expect(await scheduler.runDue()).toBe(1);
    expect((await effects(db, schema)).map((e) => e.key)).toEqual(['good']);
    expect((await jobRow(db, schema, 'bad'))?.attempts).toBe(1);
  });

  it('a job of a kind that has no handler is kept with its error and does not block the other due jobs', async () => {
    await schedule('orphan', seconds(0), {}, 'retired-kind');
    await schedule('good', seconds(1), {});
    now = seconds(2);

    expect(await scheduler.runDue()).toBe(1);
    expect((await effects(db, schema)).map((e) => e.key)).toEqual(['good']);
    expect(await jobRow(db, schema, 'orphan')).toMatchObject({ attempts: 1, lastError: expect.stringContaining('retired-kind') });
  });

  it('a handler that reschedules its own key keeps the new job (a recurring job is not deleted by its own run)', async () => {
    scheduler.use({
      remind: async (payload, tx, job) => {
        await record(schema)(payload, tx, job);
        const { round } = payload as { round: number };
        if (round < 3) await scheduler.schedule(tx, { key: job.key, kind: 'remind', dueAt: new Date(job.dueAt.getTime() + 10_000), payload: { round: round + 1 } });
      },
    });
    await schedule('tick', seconds(0), { round: 1 });

    expect(await scheduler.runDue()).toBe(1);
    expect(await scheduler.pending()).toEqual([{ key: 'tick', kind: 'remind', dueAt: seconds(10), payload: { round: 2 } }]);
    now = seconds(100);
    expect(await scheduler.runDue()).toBe(2);
    expect((await effects(db, schema)).map((e) => e.payload)).toEqual([{ round: 1 }, { round: 2 }, { round: 3 }]);
    expect(await scheduler.pending()).toEqual([]);
  });

  it('two schedulers on the same table running due jobs concurrently run each job exactly once', async () => {
    const jobs = 40;
    await db.transaction(async (tx: SqlExecutor) => {
      for (let i = 0; i < jobs; i++) await scheduler.schedule(tx, { key: `job-${i}`, kind: 'remind', dueAt: seconds(i % 5), payload: { i } });
    });
    // Separate pools, as two replicas would have; each handler lingers so the runs overlap.
    const dbs = [createPgDatabase(pg.url, { max: 4 }), createPgDatabase(pg.url, { max: 4 })];
    try {
      const replicas = dbs.map((d) => new DurableScheduler(d, schema, () => now));
      const slow: JobHandler = async (payload, tx, job) => {
        await record(schema)(payload, tx, job);
        await new Promise((resolve) => setTimeout(resolve, 5));
      };
      for (const r of replicas) r.use({ remind: slow });
      now = seconds(10);

      const ran = await Promise.all([replicas[0].runDue(), replicas[1].runDue(), replicas[0].runDue(), replicas[1].runDue()]);

      expect(ran.reduce((a, b) => a + b, 0)).toBe(jobs);
      const { rows } = await db.query<{ key: string; n: number }>(`SELECT key, count(*)::int AS n FROM ${schema}.effects GROUP BY key`);
      expect(rows).toHaveLength(jobs);
      expect(rows.filter((r) => r.n !== 1)).toEqual([]);
      expect(await scheduler.pending()).toEqual([]);
    } finally {
      await Promise.all(dbs.map((d) => d.close()));
    }
  });

  it('start() polls and runs jobs as they fall due; stop() ends the polling', async () => {
    scheduler.start({ remind: record(schema) });
    await schedule('polled', seconds(5), {});
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await effects(db, schema)).toEqual([]);

    now = seconds(5);
    await eventually(async () => (await effects(db, schema)).length === 1, { timeoutMs: 5_000, intervalMs: 20, what: 'the polled job' });

    await scheduler.stop();
    await schedule('after-stop', seconds(5), {});
    await new Promise((resolve) => setTimeout(resolve, 700));
    expect((await effects(db, schema)).map((e) => e.key)).toEqual(['polled']);
  });
});

describe('DurableScheduler on PGlite', () => {
  it('runs a due job once, keeps a failing one for later and rolls back its writes', async () => {
    const db = await createPgliteDatabase();
    try {
      let now = T0;
      const scheduler = new DurableScheduler(db, 'jobs', () => now);
      await scheduler.migrate();
      await createEffects(db, 'jobs');
      let failNext = true;
      scheduler.use({
        remind: async (payload, tx, job) => {
          await record('jobs')(payload, tx, job);
          if (failNext) {
            failNext = false;
            throw new Error('once');
          }
        },
      });
      await db.transaction((tx) => scheduler.schedule(tx, { key: 'p1', kind: 'remind', dueAt: seconds(10), payload: { p: 1 } }));

      expect(await scheduler.runDue()).toBe(0);
      now = seconds(10);
      expect(await scheduler.runDue()).toBe(0);
      expect(await jobRow(db, 'jobs', 'p1')).toEqual({ attempts: 1, lastError: 'once', dueAt: seconds(11) });
      expect(await effects(db, 'jobs')).toEqual([]);

      now = seconds(11);
      expect(await scheduler.runDue()).toBe(1);
      expect(await scheduler.runDue()).toBe(0);
      expect(await effects(db, 'jobs')).toEqual([{ key: 'p1', payload: { p: 1 } }]);
      expect(await scheduler.pending()).toEqual([]);

      await db.transaction((tx) =>
        scheduler.scheduleMany(tx, [
          { key: 'p2', kind: 'remind', dueAt: seconds(30), payload: { p: 2 } },
          { key: 'p3', kind: 'remind', dueAt: seconds(20), payload: { p: 3 } },
        ]),
      );
      expect(await scheduler.pending()).toEqual([
        { key: 'p3', kind: 'remind', dueAt: seconds(20), payload: { p: 3 } },
        { key: 'p2', kind: 'remind', dueAt: seconds(30), payload: { p: 2 } },
      ]);
    } finally {
      await db.close();
    }
  }, 60_000);
});
