/**
 * Store benchmark: the PostgreSQL event store against plain `pg` doing the same work.
 *
 *   npm run bench:store            (DATABASE_URL, or a throwaway local cluster)
 *
 * Appends: one event per append, each writer on its own stream with a numeric expected
 * version, for a fixed time; the baseline inserts the same columns, one row per transaction,
 * into a plain table (bigserial key only: no version check, no unique keys, no trigger).
 * Reads: readAll over every stored event in batches; the baseline is a raw keyset SELECT of
 * the same rows and columns in the same batch size (no visibility rule, no envelope). Custos and baseline alternate in short rounds so that
 * drift on a shared machine hits both alike.
 */
import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import { START } from '../libs/platform/event-store/src/event';
import { createPgDatabase } from '../libs/platform/event-store/src/pg-database';
import { SqlEventStore } from '../libs/platform/event-store/src/sql-event-store';
import { createTestDatabase, startPostgres } from '../libs/platform/testing/src/postgres';

const WRITERS = 16;
const READ_BATCH = 1000;
const MIN_READ_ROWS = 50_000;

interface Rate {
  count: number;
  ms: number;
}

const rate = (r: Rate) => (r.count * 1000) / r.ms;

/** Runs `writers` loops of `op` for `ms` milliseconds and counts completed operations. */
async function runFor(ms: number, writers: number, op: (writer: number, i: number) => Promise<void>): Promise<Rate> {
  const started = performance.now();
  const deadline = started + ms;
  let count = 0;
  await Promise.all(
    Array.from({ length: writers }, async (_, w) => {
      for (let i = 0; performance.now() < deadline; i++) {
        await op(w, i);
        count++;
      }
    }),
  );
  return { count, ms: performance.now() - started };
}

function add(a: Rate, b: Rate): Rate {
  return { count: a.count + b.count, ms: a.ms + b.ms };
}

function payload(w: number, i: number) {
  return { identityId: `id-${w}-${i}`, department: 'Sales', title: 'Account Executive', manager: `mgr-${w}`, startDate: '2024-05-01' };
}

async function main(): Promise<void> {
  const wallStart = performance.now();
  const server = await startPostgres();
  const database = await createTestDatabase('custos_bench');
  const db = createPgDatabase(database.url, { max: WRITERS + 4, applicationName: 'custos-bench' });
  const raw = new Pool({ connectionString: database.url, max: WRITERS + 4, application_name: 'custos-bench-baseline' });
  // Dropping the database at the end terminates connections the pool may still be closing.
  raw.on('error', () => undefined);
  try {
    const store = await SqlEventStore.open(db, { context: 'bench', schema: 'bench' });
    await raw.query(`CREATE SCHEMA baseline`);
    await raw.query(`CREATE TABLE baseline.events (
      global_position bigserial PRIMARY KEY,
      tx_id xid8 NOT NULL DEFAULT pg_current_xact_id(),
      stream_id text NOT NULL, stream_version integer NOT NULL, event_id uuid NOT NULL,
      name text NOT NULL, type text NOT NULL, data jsonb NOT NULL, time timestamptz NOT NULL,
      correlation_id text NOT NULL, causation_id text NOT NULL, actor text NOT NULL)`);
    const settings = await raw.query<{ version: string; fsync: string; sync: string }>(
      `SELECT split_part(version(), ' ', 2) AS version, current_setting('fsync') AS fsync, current_setting('synchronous_commit') AS sync`,
    );

    let run = 0;
    const custosAppends = async (writers: number, ms: number): Promise<Rate> => {
      const tag = `${run++}`;
      return runFor(ms, writers, async (w, i) => {
        await store.append(`bench-${tag}-${w}`, [{ name: 'IdentityHired', data: payload(w, i), actor: 'system:bench' }], i);
      });
    };
    const baselineAppends = async (writers: number, ms: number): Promise<Rate> => {
      const tag = `${run++}`;
      return runFor(ms, writers, async (w, i) => {
        const id = randomUUID();
        await raw.query(
          `INSERT INTO baseline.events (stream_id, stream_version, event_id, name, type, data, time, correlation_id, causation_id, actor)
           VALUES ($1, $2, $3, $4, $5, $6, now(), $7, $8, $9)`,
          [`bench-${tag}-${w}`, i + 1, id, 'IdentityHired', 'custos.bench.IdentityHired.v1', JSON.stringify(payload(w, i)), id, id, 'system:bench'],
        );
      });
    };

    // Warm-up: connections, plans, JIT of both code paths.
    await custosAppends(WRITERS, 500);
    await baselineAppends(WRITERS, 500);

    const appendRounds = async (writers: number, roundMs: number, rounds: number) => {
      let custos: Rate = { count: 0, ms: 0 };
      let baseline: Rate = { count: 0, ms: 0 };
      for (let r = 0; r < rounds; r++) {
        custos = add(custos, await custosAppends(writers, roundMs));
        baseline = add(baseline, await baselineAppends(writers, roundMs));
      }
      return { custos, baseline };
    };
    const single = await appendRounds(1, 2_000, 2);
    const concurrent = await appendRounds(WRITERS, 3_000, 2);

    // Enough rows that a read pass is measured in hundreds of milliseconds, not a few.
    const { rows: counted } = await raw.query<{ n: string }>(`SELECT count(*) AS n FROM bench.events`);
    let rows = Number(counted[0].n);
    for (let s = 0; rows < MIN_READ_ROWS; s++) {
      const events = Array.from({ length: 500 }, (_, i) => ({ name: 'IdentityHired', data: payload(s, i), actor: 'system:bench' }));
      await store.append(`bench-fill-${s}`, events, 'no-stream');
      rows += events.length;
    }
    await raw.query('VACUUM ANALYZE bench.events');

    const custosRead = async (): Promise<Rate> => {
      const started = performance.now();
      let count = 0;
      for (let checkpoint = START; ; ) {
        const page = await store.readAll(checkpoint, READ_BATCH);
        if (page.events.length === 0) break;
        count += page.events.length;
        checkpoint = page.checkpoint;
      }
      return { count, ms: performance.now() - started };
    };
    const baselineRead = async (): Promise<Rate> => {
      const started = performance.now();
      let count = 0;
      for (let after = '0'; ; ) {
        // The same columns in the same text forms as the store reads them: `SELECT *` would
        // make the baseline slower (pg parses timestamptz into Date) and flatter the ratio.
        const page = await raw.query<{ global_position: string }>(
          `SELECT global_position::text AS global_position, tx_id::text AS tx_id, stream_id, stream_version, event_id,
             name, type, data, to_char(time AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS time,
             correlation_id, causation_id, actor
           FROM bench.events e WHERE e.global_position > $1 ORDER BY e.global_position LIMIT $2`,
          [after, READ_BATCH],
        );
        if (page.rows.length === 0) break;
        count += page.rows.length;
        after = page.rows[page.rows.length - 1].global_position;
      }
      return { count, ms: performance.now() - started };
    };
    await custosRead();
    await baselineRead();
    let readCustos: Rate = { count: 0, ms: 0 };
    let readBaseline: Rate = { count: 0, ms: 0 };
    for (let r = 0; r < 3; r++) {
      readCustos = add(readCustos, await custosRead());
      readBaseline = add(readBaseline, await baselineRead());
    }
    if (readCustos.count !== readBaseline.count) throw new Error(`read ${readCustos.count} events but the baseline read ${readBaseline.count} rows`);

    const table = [
      { measurement: 'appends/s, 1 writer', custos: single.custos, baseline: single.baseline, target: null },
      { measurement: `appends/s, ${WRITERS} writers`, custos: concurrent.custos, baseline: concurrent.baseline, target: 0.5 },
      { measurement: `catch-up read events/s (batch ${READ_BATCH})`, custos: readCustos, baseline: readBaseline, target: 0.6 },
    ];
    const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
    console.log(`\nPostgreSQL ${settings.rows[0].version}, fsync=${settings.rows[0].fsync}, synchronous_commit=${settings.rows[0].sync}; ${fmt(readCustos.count / 3)} events read per pass\n`);
    console.log(
      ['measurement'.padEnd(36), 'custos'.padStart(10), 'baseline'.padStart(10), 'ratio'.padStart(7), 'target'.padStart(8), '  result'].join(' '),
    );
    let failed = false;
    for (const row of table) {
      const ratio = rate(row.custos) / rate(row.baseline);
      const ok = row.target === null || ratio >= row.target;
      failed ||= !ok;
      console.log(
        [
          row.measurement.padEnd(36),
          fmt(rate(row.custos)).padStart(10),
          fmt(rate(row.baseline)).padStart(10),
          ratio.toFixed(2).padStart(7),
          (row.target === null ? '-' : `>= ${row.target}`).padStart(8),
          row.target === null ? '  -' : ok ? '  pass' : '  FAIL',
        ].join(' '),
      );
    }
    console.log(`\n(${((performance.now() - wallStart) / 1000).toFixed(1)} s)`);
    process.exitCode = failed ? 1 : 0;
  } finally {
    await db.close();
    await raw.end();
    await database.drop();
    await server.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
