/**
 * Store benchmark: the PostgreSQL event store against a peer, Emmett's PostgreSQL event store
 * (`@event-driven-io/emmett-postgresql`), and against plain `pg` doing the same work.
 *
 *   npm run bench:store            (DATABASE_URL, or a throwaway local cluster)
 *
 * Appends: one event per append, each writer on its own stream with a numeric expected
 * version, for a fixed time; the baseline inserts the same columns, one row per transaction,
 * into a plain table (bigserial key only: no version check, no unique keys, no trigger).
 * Contended appends: 16 writers over 64 shared streams; a writer picks a stream, reads what is
 * new in it since it last looked (its version), appends with that expected version and, on a
 * conflict, reads again and retries; successful appends and conflicts are counted (plain `pg`
 * has no version check, so no baseline there).
 * Reads: a catch-up pass over every stored event in batches of 1,000, each event's id counted so
 * that an event seen twice or never is reported; the baseline is a raw keyset SELECT of the same
 * rows and columns (no visibility rule, no envelope). Emmett reads with its batch reader,
 * `readMessagesBatch` (what its consumers' puller calls, without the puller's sleep between
 * batches).
 * Custos, Emmett and the baseline alternate in short rounds so that drift on a shared machine
 * hits all alike. Emmett keeps its tables in a database of its own.
 */
import { randomUUID } from 'node:crypto';
import { dumbo } from '@event-driven-io/dumbo';
import { isExpectedVersionConflictError } from '@event-driven-io/emmett';
import { getPostgreSQLEventStore, readMessagesBatch, type PostgresEventStore } from '@event-driven-io/emmett-postgresql';
import pg, { Pool } from 'pg';
import { START, WrongExpectedVersionError } from '../libs/platform/event-store/src/event';
import { createPgDatabase } from '../libs/platform/event-store/src/pg-database';
import { SqlEventStore } from '../libs/platform/event-store/src/sql-event-store';
import { createTestDatabase, startPostgres } from '../libs/platform/testing/src/postgres';

const WRITERS = 16;
const SHARED_STREAMS = 64;
const READ_BATCH = 1000;
const MIN_READ_ROWS = 50_000;
const ROUNDS = 3;

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

/**
 * Emmett's driver (dumbo) sets process-wide `pg` type parsers (int8 as BigInt, json through its
 * own serializer) when its pool is made. Those stay on Emmett's pool only, so that neither store
 * reads with the other's parsers.
 */
function emmettPool(url: string): { pool: Pool; own(): void } {
  const OIDS = [20, 114, 3802];
  const original = new Map(OIDS.map((oid) => [oid, pg.types.getTypeParser(oid, 'text')]));
  const emmett = new Map<number, (value: string) => unknown>();
  const pool = new Pool({
    connectionString: url,
    max: WRITERS,
    idleTimeoutMillis: 1_000,
    application_name: 'custos-bench-emmett',
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') => emmett.get(oid) ?? pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
    },
  });
  pool.on('error', () => undefined);
  return {
    pool,
    /** Called once Emmett's store is made: its parsers move from the process to its pool. */
    own() {
      for (const oid of OIDS) {
        emmett.set(oid, pg.types.getTypeParser(oid, 'text'));
        pg.types.setTypeParser(oid, original.get(oid)!);
      }
    },
  };
}

interface ReadPass extends Rate {
  /** Distinct event ids seen. */
  distinct: number;
  /** Events seen more than once (each extra sighting counts). */
  repeated: number;
}

function tally(ids: Iterable<string>, ms: number): ReadPass {
  let count = 0;
  const seen = new Set<string>();
  for (const id of ids) {
    count++;
    seen.add(id);
  }
  return { count, ms, distinct: seen.size, repeated: count - seen.size };
}

async function main(): Promise<void> {
  const wallStart = performance.now();
  const server = await startPostgres();
  const database = await createTestDatabase('custos_bench');
  const emmettDatabase = await createTestDatabase('emmett_bench');
  const db = createPgDatabase(database.url, { max: WRITERS + 4, applicationName: 'custos-bench' });
  const raw = new Pool({ connectionString: database.url, max: WRITERS, idleTimeoutMillis: 1_000, application_name: 'custos-bench-baseline' });
  // Dropping the database at the end terminates connections the pool may still be closing.
  raw.on('error', () => undefined);
  const emmettConnections = emmettPool(emmettDatabase.url);
  let emmett: PostgresEventStore | null = null;
  try {
    const store = await SqlEventStore.open(db, { context: 'bench', schema: 'bench' });
    emmett = getPostgreSQLEventStore(emmettDatabase.url, { connectionOptions: { pool: emmettConnections.pool } });
    emmettConnections.own();
    await emmett.schema.migrate();
    const emmettExecutor = dumbo({ connectionString: emmettDatabase.url, pool: emmettConnections.pool }).execute;
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
    const emmettAppends = async (writers: number, ms: number): Promise<Rate> => {
      const tag = `${run++}`;
      return runFor(ms, writers, async (w, i) => {
        await emmett!.appendToStream(`bench-${tag}-${w}`, [{ type: 'IdentityHired', data: payload(w, i) }], { expectedStreamVersion: BigInt(i) });
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

    /**
     * Writers sharing SHARED_STREAMS streams: each remembers the version it last saw of each
     * stream, reads what is new from there, appends with that expected version and, on a
     * conflict, reads again and retries. Counts successful appends; conflicts beside them.
     */
    const contended = (
      read: (stream: string, from: number) => Promise<number | null>,
      append: (stream: string, w: number, i: number, expected: number) => Promise<void>,
      isConflict: (error: unknown) => boolean,
    ) => {
      return async (ms: number): Promise<Rate & { conflicts: number }> => {
        const tag = `${run++}`;
        const known = Array.from({ length: WRITERS }, () => new Map<string, number>());
        let conflicts = 0;
        const result = await runFor(ms, WRITERS, async (w, i) => {
          const stream = `shared-${tag}-${Math.floor(Math.random() * SHARED_STREAMS)}`;
          for (;;) {
            const from = known[w].get(stream) ?? 0;
            const version = (await read(stream, from + 1)) ?? from;
            known[w].set(stream, version);
            try {
              await append(stream, w, i, version);
              known[w].set(stream, version + 1);
              return;
            } catch (error) {
              if (!isConflict(error)) throw error;
              conflicts++;
            }
          }
        });
        return { ...result, conflicts };
      };
    };
    const custosContended = contended(
      async (stream, from) => (await store.readStream(stream, from)).at(-1)?.streamversion ?? null,
      async (stream, w, i, expected) => {
        await store.append(stream, [{ name: 'IdentityHired', data: payload(w, i), actor: 'system:bench' }], expected);
      },
      (error) => error instanceof WrongExpectedVersionError,
    );
    const emmettContended = contended(
      async (stream, from) => {
        const { events } = await emmett!.readStream(stream, { from: BigInt(from) });
        const last = events.at(-1);
        return last ? Number(last.metadata.streamPosition) : null;
      },
      async (stream, w, i, expected) => {
        await emmett!.appendToStream(stream, [{ type: 'IdentityHired', data: payload(w, i) }], { expectedStreamVersion: BigInt(expected) });
      },
      isExpectedVersionConflictError,
    );

    // Warm-up: connections, plans, JIT of every code path.
    await custosAppends(WRITERS, 500);
    await emmettAppends(WRITERS, 500);
    await baselineAppends(WRITERS, 500);
    await custosContended(500);
    await emmettContended(500);

    const appendRounds = async (writers: number, roundMs: number) => {
      let custos: Rate = { count: 0, ms: 0 };
      let emmettRate: Rate = { count: 0, ms: 0 };
      let baseline: Rate = { count: 0, ms: 0 };
      for (let r = 0; r < ROUNDS; r++) {
        custos = add(custos, await custosAppends(writers, roundMs));
        emmettRate = add(emmettRate, await emmettAppends(writers, roundMs));
        baseline = add(baseline, await baselineAppends(writers, roundMs));
      }
      return { custos, emmett: emmettRate, baseline };
    };
    const single = await appendRounds(1, 2_000);
    const concurrent = await appendRounds(WRITERS, 2_000);
    const shared = { custos: { count: 0, ms: 0, conflicts: 0 }, emmett: { count: 0, ms: 0, conflicts: 0 } };
    for (let r = 0; r < ROUNDS; r++) {
      const c = await custosContended(2_000);
      const e = await emmettContended(2_000);
      shared.custos = { ...add(shared.custos, c), conflicts: shared.custos.conflicts + c.conflicts };
      shared.emmett = { ...add(shared.emmett, e), conflicts: shared.emmett.conflicts + e.conflicts };
    }

    // Enough rows that a read pass is measured in hundreds of milliseconds, not a few.
    const countOf = async (pool: Pool, table: string) => Number((await pool.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${table}`)).rows[0].n);
    for (let rows = await countOf(raw, 'bench.events'), s = 0; rows < MIN_READ_ROWS; s++) {
      const events = Array.from({ length: 500 }, (_, i) => ({ name: 'IdentityHired', data: payload(s, i), actor: 'system:bench' }));
      await store.append(`bench-fill-${s}`, events, 'no-stream');
      rows += events.length;
    }
    for (let rows = await countOf(emmettConnections.pool, 'emt_messages'), s = 0; rows < MIN_READ_ROWS; s++) {
      const events = Array.from({ length: 500 }, (_, i) => ({ type: 'IdentityHired', data: payload(s, i) }));
      await emmett.appendToStream(`bench-fill-${s}`, events, { expectedStreamVersion: 0n });
      rows += events.length;
    }
    await raw.query('VACUUM ANALYZE bench.events');
    await emmettConnections.pool.query('VACUUM ANALYZE emt_messages');
    const stored = { custos: await countOf(raw, 'bench.events'), emmett: await countOf(emmettConnections.pool, 'emt_messages') };

    const custosRead = async (): Promise<ReadPass> => {
      const started = performance.now();
      const ids: string[] = [];
      for (let checkpoint = START; ; ) {
        const page = await store.readAll(checkpoint, READ_BATCH);
        if (page.events.length === 0) break;
        for (const event of page.events) ids.push(event.id);
        checkpoint = page.checkpoint;
      }
      return tally(ids, performance.now() - started);
    };
    const emmettRead = async (): Promise<ReadPass> => {
      const started = performance.now();
      const ids: string[] = [];
      for (let after = 0n; ; ) {
        const page = await readMessagesBatch(emmettExecutor, { after, batchSize: READ_BATCH });
        for (const message of page.messages) ids.push(message.metadata.messageId);
        after = page.currentGlobalPosition;
        if (!page.areMessagesLeft) break;
      }
      return tally(ids, performance.now() - started);
    };
    const baselineRead = async (): Promise<ReadPass> => {
      const started = performance.now();
      const ids: string[] = [];
      for (let after = '0'; ; ) {
        // The same columns in the same text forms as the store reads them: `SELECT *` would
        // make the baseline slower (pg parses timestamptz into Date) and flatter the ratio.
        const page = await raw.query<{ global_position: string; event_id: string }>(
          `SELECT global_position::text AS global_position, tx_id::text AS tx_id, stream_id, stream_version, event_id,
             name, type, data, to_char(time AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS time,
             correlation_id, causation_id, actor
           FROM bench.events e WHERE e.global_position > $1 ORDER BY e.global_position LIMIT $2`,
          [after, READ_BATCH],
        );
        if (page.rows.length === 0) break;
        for (const row of page.rows) ids.push(row.event_id);
        after = page.rows[page.rows.length - 1].global_position;
      }
      return tally(ids, performance.now() - started);
    };
    await custosRead();
    await emmettRead();
    await baselineRead();
    const passes = { custos: [] as ReadPass[], emmett: [] as ReadPass[], baseline: [] as ReadPass[] };
    for (let r = 0; r < ROUNDS; r++) {
      passes.custos.push(await custosRead());
      passes.emmett.push(await emmettRead());
      passes.baseline.push(await baselineRead());
    }
    const total = (ps: ReadPass[]): Rate => ps.reduce<Rate>((a, p) => add(a, p), { count: 0, ms: 0 });
    for (const p of passes.custos) {
      if (p.count !== stored.custos || p.distinct !== stored.custos) {
        throw new Error(`Custos read ${p.count} events (${p.distinct} distinct) of ${stored.custos} stored`);
      }
    }

    const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
    const table = [
      { measurement: 'appends/s, 1 writer', ...single, target: null },
      { measurement: `appends/s, ${WRITERS} writers own streams`, ...concurrent, target: 0.5 },
      { measurement: `appends/s, ${WRITERS} writers ${SHARED_STREAMS} streams`, custos: shared.custos, emmett: shared.emmett, baseline: null, target: null },
      { measurement: `catch-up read events/s (batch ${READ_BATCH})`, custos: total(passes.custos), emmett: total(passes.emmett), baseline: total(passes.baseline), target: 0.6 },
    ];
    console.log(`\nPostgreSQL ${settings.rows[0].version}, fsync=${settings.rows[0].fsync}, synchronous_commit=${settings.rows[0].sync}; ${ROUNDS} alternating rounds per row\n`);
    console.log(
      [
        'measurement'.padEnd(40),
        'custos'.padStart(9),
        'emmett'.padStart(9),
        'baseline'.padStart(9),
        'c/emmett'.padStart(9),
        'c/base'.padStart(7),
        'target'.padStart(8),
        '  result',
      ].join(' '),
    );
    let failed = false;
    for (const row of table) {
      const versusEmmett = rate(row.custos) / rate(row.emmett);
      const versusBaseline = row.baseline ? rate(row.custos) / rate(row.baseline) : null;
      const ok = row.target === null || versusBaseline === null || versusBaseline >= row.target;
      failed ||= !ok;
      console.log(
        [
          row.measurement.padEnd(40),
          fmt(rate(row.custos)).padStart(9),
          fmt(rate(row.emmett)).padStart(9),
          (row.baseline ? fmt(rate(row.baseline)) : '-').padStart(9),
          versusEmmett.toFixed(2).padStart(9),
          (versusBaseline === null ? '-' : versusBaseline.toFixed(2)).padStart(7),
          (row.target === null ? '-' : `>= ${row.target}`).padStart(8),
          row.target === null ? '  -' : ok ? '  pass' : '  FAIL',
        ].join(' '),
      );
    }
    const pct = (s: { count: number; conflicts: number }) => `${((100 * s.conflicts) / (s.count + s.conflicts)).toFixed(1)}%`;
    console.log(
      `\ncontended: Custos ${fmt(shared.custos.count)} appends, ${fmt(shared.custos.conflicts)} conflicts (${pct(shared.custos)} of attempts); ` +
        `Emmett ${fmt(shared.emmett.count)} appends, ${fmt(shared.emmett.conflicts)} conflicts (${pct(shared.emmett)})`,
    );
    const reads = (name: string, ps: ReadPass[], of: number) =>
      `${name}: ${ps.map((p) => `${fmt(p.count)} read, ${fmt(p.distinct)} distinct, ${fmt(p.repeated)} repeated, ${fmt(of - p.distinct)} missed`).join('; ')} (of ${fmt(of)} stored)`;
    console.log(`catch-up passes, ${reads('Custos', passes.custos, stored.custos)}`);
    console.log(`                 ${reads('Emmett', passes.emmett, stored.emmett)}`);
    console.log(`                 ${reads('baseline', passes.baseline, stored.custos)}`);
    console.log(`\n(${((performance.now() - wallStart) / 1000).toFixed(1)} s)`);
    process.exitCode = failed ? 1 : 0;
  } finally {
    await db.close();
    await raw.end();
    await emmett?.close();
    await emmettConnections.pool.end();
    await database.drop();
    await emmettDatabase.drop();
    await server.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
