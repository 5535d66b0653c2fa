/**
 * Audit benchmark: the audit log over BENCH_AUDIT_EVENTS stored events (default 1,000,000), each
 * figure beside a baseline measured in the same run, as a ratio.
 *
 *   npm run bench:audit             (DATABASE_URL, or a throwaway local cluster)
 *   BENCH_AUDIT_EVENTS=100000 npm run bench:audit
 *
 * - ingestion: events/s into the log with its Merkle tree and access history kept, in batches of
 *   1,000 (what the consumers hand it); baseline: the same events inserted as (seq, jsonb) rows of
 *   a plain table in batches of the same size (no tree, no history, no dedupe, no index but the key);
 * - rebuild: the access history replayed from the log (`custos projections rebuild audit-history`);
 *   baseline: the raw keyset read of the same rows and columns, parsed (target: at least 50%);
 * - verify: the whole tree recomputed from the entries and checked (`GET /audit/verify`); baseline:
 *   SHA-256 of the same entry bytes in this process (target: at least 50%);
 * - inclusion and consistency proofs at the full size: p99 of 1,000 each (target: under 10 ms);
 * - access-at at random instants for random identities: p99 of 1,000 (target: under 20 ms).
 */
import { createHash, randomUUID } from 'node:crypto';
import { AuditLog, canonicalText, entryText, PointInTime } from '../libs/audit/application/src';
import { accessTerminated, granted, hired, revoked, terminated } from '../libs/audit/application/src/testing/builders';
import type { CustosEvent } from '../libs/platform/event-store/src/event';
import { createPgDatabase } from '../libs/platform/event-store/src/pg-database';
import { createTestDatabase, startPostgres } from '../libs/platform/testing/src/postgres';

const EVENTS = Number(process.env.BENCH_AUDIT_EVENTS ?? 1_000_000);
const BATCH = 1000;
const SAMPLES = 1000;
const START = Date.parse('2025-01-01T00:00:00Z');

const rate = (count: number, ms: number) => (count * 1000) / ms;
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const p99 = (samples: number[]) => [...samples].sort((a, b) => a - b)[Math.floor(samples.length * 0.99)];
const iso = (ms: number) => new Date(ms).toISOString();

/** The events of one identity's life: hired, two grants, and for one in four a leaver with its revocations. */
function lifeOf(n: number): CustosEvent[] {
  const id = `id-${n}`;
  const t = START + n * 60_000;
  const events = [
    hired(id, iso(t)),
    granted(id, iso(t + 1000), { grantId: `${id}-a`, entitlement: `app-${n % 50}:read`, source: 'birthright' }),
    granted(id, iso(t + 2000), { grantId: `${id}-b`, entitlement: `app-${n % 7}:admin`, source: 'admin' }),
  ];
  if (n % 4 === 0) {
    events.push(terminated(id, iso(t + 30 * 60_000), iso(t + 31 * 60_000)), accessTerminated(id, iso(t + 31 * 60_000)));
    events.push(revoked(id, iso(t + 31 * 60_000), `${id}-a`, `app-${n % 50}:read`), revoked(id, iso(t + 31 * 60_000), `${id}-b`, `app-${n % 7}:admin`));
  }
  return events;
}

async function main(): Promise<void> {
  const server = await startPostgres();
  const database = await createTestDatabase('custos_bench_audit');
  const db = createPgDatabase(database.url, { max: 4, applicationName: 'custos-bench-audit' });
  const log = new AuditLog(db);
  await log.migrate();
  await db.query(`CREATE TABLE bench_plain (seq bigint PRIMARY KEY, event jsonb NOT NULL)`);
  console.log(`audit bench: ${fmt(EVENTS)} events, PostgreSQL ${(await db.query<{ server_version: string }>('SHOW server_version')).rows[0].server_version}`);

  // Ingestion, alternating with its baseline batch by batch so that drift hits both alike.
  let logMs = 0;
  let plainMs = 0;
  let stored = 0;
  let identities = 0;
  const pending: CustosEvent[] = [];
  while (stored < EVENTS) {
    while (pending.length < BATCH) pending.push(...lifeOf(identities++));
    const batch = pending.splice(0, Math.min(BATCH, EVENTS - stored));
    let t = performance.now();
    await log.recordBatch(batch);
    logMs += performance.now() - t;
    t = performance.now();
    await db.query(`INSERT INTO bench_plain (seq, event) SELECT (r->>0)::bigint, r->1 FROM jsonb_array_elements($1::jsonb) AS x(r)`, [
      JSON.stringify(batch.map((e, i) => [stored + i + 1, e])),
    ]);
    plainMs += performance.now() - t;
    stored += batch.length;
    if (stored % 100_000 === 0) console.log(`  ${fmt(stored)} stored`);
  }
  const ingest = rate(stored, logMs);
  const plain = rate(stored, plainMs);
  console.log(`ingestion  ${fmt(ingest)} events/s (tree + history)  | plain INSERT ${fmt(plain)} events/s | ratio ${(ingest / plain).toFixed(2)}`);

  // Rebuild against the raw read of the same rows.
  let t = performance.now();
  let raw = 0;
  for (let after = 0; ; ) {
    const { rows } = await db.query<{ seq: string; event: unknown }>(`SELECT seq, event FROM audit.log WHERE seq > $1 ORDER BY seq LIMIT 5000`, [after]);
    if (rows.length === 0) break;
    raw += rows.length;
    after = Number(rows[rows.length - 1].seq);
  }
  const rawRead = rate(raw, performance.now() - t);
  t = performance.now();
  const rebuilt = await log.rebuildHistory();
  const rebuild = rate(rebuilt, performance.now() - t);
  console.log(`rebuild    ${fmt(rebuild)} events/s  | raw PostgreSQL read ${fmt(rawRead)} events/s | ratio ${(rebuild / rawRead).toFixed(2)} (target >= 0.50)`);

  // Verify against SHA-256 of the same bytes.
  t = performance.now();
  const verdict = await log.verify(5000);
  const verify = rate(verdict.events, performance.now() - t);
  if (!verdict.ok) throw new Error(`verify failed: ${JSON.stringify(verdict)}`);
  // The same entry bytes, hashed page by page: only the hashing is timed (the read and the
  // canonical text are verify's own work, not the baseline's), and no page outlives its turn.
  let hashed = 0;
  let hashMs = 0;
  for (let after = 0; ; ) {
    const { rows } = await db.query<{ seq: string; event: CustosEvent }>(`SELECT seq, event FROM audit.log WHERE seq > $1 ORDER BY seq LIMIT 5000`, [after]);
    if (rows.length === 0) break;
    const texts = rows.map((row) => entryText(Number(row.seq), canonicalText(row.event)));
    const started = performance.now();
    for (const text of texts) createHash('sha256').update(Buffer.from([0])).update(text).digest();
    hashMs += performance.now() - started;
    hashed += texts.length;
    after = Number(rows[rows.length - 1].seq);
  }
  const hashing = rate(hashed, hashMs);
  console.log(`verify     ${fmt(verify)} events/s  | raw SHA-256 of the same bytes ${fmt(hashing)} events/s | ratio ${(verify / hashing).toFixed(2)} (target >= 0.50)`);

  // Proofs at the full size.
  const size = await log.tree.size();
  const timed = async (op: () => Promise<unknown>) => {
    const samples: number[] = [];
    for (let i = 0; i < SAMPLES; i++) {
      const s = performance.now();
      await op();
      samples.push(performance.now() - s);
    }
    return p99(samples);
  };
  const pick = (n: number) => 1 + Math.floor(Math.random() * n);
  const inclusion = await timed(() => log.tree.inclusion(pick(size), size));
  const consistency = await timed(() => log.tree.consistency(pick(size), size));
  console.log(`proofs     inclusion p99 ${inclusion.toFixed(2)} ms, consistency p99 ${consistency.toFixed(2)} ms at ${fmt(size)} entries (target < 10 ms)`);

  // access-at at random instants.
  const pit = new PointInTime(db);
  const now = new Date();
  const accessAt = await timed(() => {
    const n = Math.floor(Math.random() * identities);
    return pit.accessAt(`id-${n}`, { at: new Date(START + n * 60_000 + Math.random() * 3600_000) }, now);
  });
  console.log(`access-at  p99 ${accessAt.toFixed(2)} ms over ${fmt(size)} events (target < 20 ms)`);
  console.log(`(run ${randomUUID().slice(0, 8)})`);

  await db.close();
  await database.drop();
  await server.stop();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
