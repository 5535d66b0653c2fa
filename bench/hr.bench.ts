/**
 * HR intake benchmark: the all-in-one app as production runs it (PostgreSQL + NATS JetStream, one
 * process), driven over HTTP like an HR system would.
 *
 *   npm run bench:hr        (DATABASE_URL / NATS_URL, else a throwaway local PostgreSQL and nats-server)
 *
 * Phases: 10,000 joiners, then 10,000 movers, then 10,000 leavers through `POST /hr/events`
 * from 32 concurrent keep-alive clients, each phase right after the same load against the
 * no-op route `GET /health/live` of the same process (no I/O: routing, Nest on Fastify, the global
 * guards, JSON), measured with the same load generator. The ratio is HR events/s ÷ no-op req/s.
 * Then the identity read model is grown to 100,000 identities by running HrIntake (the same
 * code path as the webhook, minus HTTP) from this process against the same database, and its
 * size in PostgreSQL and the app's RSS are reported.
 *
 * Targets (2-core machine): >= 1,500 HR events/s and p99 < 50 ms in every phase.
 * BENCH_HR_EVENTS changes the events per phase; BENCH_HR_IDENTITIES the read-model size;
 * BENCH_HR_PG_STATEMENTS=1 adds each phase's busiest SQL statements (pg_stat_statements).
 * BENCH_HR_VERSUS=<checkout> adds another build of Custos (an older commit in a worktree with its own
 * `npm ci`) on its own database and namespace: each phase runs on this build, then on that one,
 * and a second table gives both side by side with their ratios (before/after in one run).
 */
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import * as http from 'node:http';
import { cpus, loadavg } from 'node:os';
import { resolve } from 'node:path';
import { EmployeeDirectory, HrIntake } from '../libs/identity/application/src';
import { createPgDatabase, SqlEventStore, type SqlDatabase } from '../libs/platform/event-store/src';
import { InProcessBus } from '../libs/platform/messaging/src';
import { createLogger, DurableScheduler, readConfig } from '../libs/platform/runtime/src';
import { removeNamespaceStreamsAt, startNats } from '../libs/platform/testing/src/nats';
import { createTestDatabase, startPostgres } from '../libs/platform/testing/src/postgres';
import { startProcess } from '../test/support/processes';

const CLIENTS = 32;
const EVENTS = Number(process.env.BENCH_HR_EVENTS ?? 10_000);
const IDENTITIES = Number(process.env.BENCH_HR_IDENTITIES ?? 100_000);
/** BENCH_HR_PG_STATEMENTS=1: report each phase's busiest statements (needs pg_stat_statements in shared_preload_libraries). */
const STATEMENTS = process.env.BENCH_HR_PG_STATEMENTS === '1';
const VERSUS = process.env.BENCH_HR_VERSUS ? resolve(process.env.BENCH_HR_VERSUS) : undefined;
const TARGET_RATE = 1_500;
const TARGET_P99_MS = 50;
const MANAGERS = 50;
const DEPARTMENTS = ['Engineering', 'Sales', 'Marketing', 'Finance', 'Support', 'Legal', 'People', 'Operations'];

interface Load {
  count: number;
  ms: number;
  latencies: Float64Array;
  failures: Map<string, number>;
}

interface Call {
  method: 'GET' | 'POST';
  path: string;
  body?: string;
  /** What a correct answer looks like. */
  ok: (status: number, body: string) => boolean;
}

/** Sends `count` requests from `clients` keep-alive connections, each client one request at a time. */
async function load(base: URL, token: string | undefined, count: number, clients: number, call: (i: number) => Call): Promise<Load> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: clients });
  const latencies = new Float64Array(count);
  const failures = new Map<string, number>();
  let next = 0;
  const started = performance.now();
  const one = (c: Call) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const headers: http.OutgoingHttpHeaders = {};
      if (token) headers.authorization = `Bearer ${token}`;
      if (c.body !== undefined) {
        headers['content-type'] = 'application/json';
        headers['content-length'] = Buffer.byteLength(c.body);
      }
      const req = http.request({ agent, host: base.hostname, port: base.port, method: c.method, path: c.path, headers }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(c.body);
    });
  await Promise.all(
    Array.from({ length: clients }, async () => {
      for (let i = next++; i < count; i = next++) {
        const c = call(i);
        const t0 = performance.now();
        let key: string | undefined;
        try {
          const answer = await one(c);
          if (!c.ok(answer.status, answer.body)) key = `${answer.status} ${answer.body.slice(0, 160)}`;
        } catch (error) {
          key = (error as Error).message;
        }
        latencies[i] = performance.now() - t0;
        if (key) failures.set(key, (failures.get(key) ?? 0) + 1);
      }
    }),
  );
  const ms = performance.now() - started;
  agent.destroy();
  return { count, ms, latencies, failures };
}

const rate = (l: Load) => (l.count * 1000) / l.ms;
function percentile(l: Load, p: number): number {
  const sorted = Float64Array.from(l.latencies).sort();
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

function employee(prefix: string, i: number, version: number) {
  const manager = prefix === 'M' ? undefined : `M${i % MANAGERS}`;
  return {
    employeeId: `${prefix}${i}`,
    givenName: `Given${i}`,
    familyName: `Family${i}`,
    email: `${prefix.toLowerCase()}${i}@bench.example.com`,
    department: DEPARTMENTS[(i + version) % DEPARTMENTS.length],
    title: version === 0 ? 'Engineer' : 'Senior Engineer',
    ...(manager ? { managerEmployeeId: manager } : {}),
    location: 'London',
    costCenter: `CC-${(i + version) % 40}`,
    employmentType: 'employee' as const,
  };
}

async function rssOf(base: URL): Promise<number> {
  const text = await (await fetch(new URL('/metrics', base))).text();
  const line = text.split('\n').find((l) => l.startsWith('process_resident_memory_bytes '));
  if (!line) throw new Error('process_resident_memory_bytes is not in /metrics');
  return Number(line.split(' ')[1]);
}

/** The machine's CPU counters from Linux /proc/stat (all processes and the kernel); undefined elsewhere. */
function machineTicks(): { busy: number; total: number } | undefined {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n').find((l) => l.startsWith('cpu '));
    if (!line) return undefined;
    const ticks = line.trim().split(/\s+/).slice(1, 9).map(Number);
    const total = ticks.reduce((a, b) => a + b, 0);
    return { busy: total - ticks[3] - ticks[4], total };
  } catch {
    return undefined;
  }
}

type CpuByProcess = Map<string, number>;

/**
 * CPU seconds used so far by each kind of process on this machine (Linux /proc): the app, this
 * load generator, PostgreSQL, nats-server, and the rest (kernel threads included). Exited
 * processes are missing, so it is meant for differences over a phase.
 */
function cpuByProcess(appPid: number | undefined): CpuByProcess | undefined {
  const hz = 100; // USER_HZ: what /proc/<pid>/stat counts in on Linux
  const totals: CpuByProcess = new Map();
  let entries: string[];
  try {
    entries = readdirSync('/proc').filter((e) => /^\d+$/.test(e));
  } catch {
    return undefined;
  }
  for (const entry of entries) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // gone meanwhile
    }
    const close = stat.lastIndexOf(')');
    const comm = stat.slice(stat.indexOf('(') + 1, close);
    const fields = stat.slice(close + 2).split(' ');
    const seconds = (Number(fields[11]) + Number(fields[12])) / hz;
    const pid = Number(entry);
    const kind = pid === appPid ? 'app' : pid === process.pid ? 'load generator' : comm === 'postgres' ? 'PostgreSQL' : comm === 'nats-server' ? 'NATS' : 'other';
    totals.set(kind, (totals.get(kind) ?? 0) + seconds);
  }
  return totals;
}

/** CPU microseconds per event by kind of process between two snapshots. */
function perEvent(before: CpuByProcess | undefined, after: CpuByProcess | undefined, events: number): string | undefined {
  if (!before || !after) return undefined;
  const kinds = ['app', 'PostgreSQL', 'NATS', 'load generator', 'other'];
  const micros = kinds.map((k) => (((after.get(k) ?? 0) - (before.get(k) ?? 0)) * 1e6) / events);
  const total = micros.reduce((a, b) => a + b, 0);
  return `${kinds.map((k, i) => `${k} ${fmt(micros[i])}`).join(', ')}; all ${fmt(total)} µs`;
}

/** The share of the machine's CPU time that was busy since `since`. */
function busySince(since: { busy: number; total: number } | undefined): number | undefined {
  const now = machineTicks();
  return since && now ? (now.busy - since.busy) / (now.total - since.total) : undefined;
}

/** The statements of this database that took the most time since the last reset, one line each. */
async function topStatements(db: SqlDatabase): Promise<string> {
  const { rows } = await db.query<{ calls: string; ms: string; us: string; rows: string; q: string }>(
    `SELECT calls, round(total_exec_time::numeric) AS ms, round((total_exec_time / calls * 1000)::numeric) AS us, rows,
            right(regexp_replace(query, '\\s+', ' ', 'g'), 110) AS q
     FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
     ORDER BY total_exec_time DESC LIMIT 12`,
  );
  const { rows: [all] } = await db.query<{ calls: string; ms: string }>(
    `SELECT sum(calls)::text AS calls, round(sum(total_exec_time)::numeric)::text AS ms
     FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())`,
  );
  const lines = rows.map((r) => `  ${r.calls.padStart(6)} ${r.ms.padStart(6)} ms ${r.us.padStart(6)} µs ${r.rows.padStart(7)}  …${r.q}`);
  return [`  all statements: ${all?.calls ?? 0} calls (${(Number(all?.calls ?? 0) / EVENTS).toFixed(2)} per HR event), ${all?.ms ?? 0} ms`, ...lines].join('\n');
}

async function cpuSeconds(base: URL): Promise<number> {
  const text = await (await fetch(new URL('/metrics', base))).text();
  const line = text.split('\n').find((l) => l.startsWith('process_cpu_seconds_total '));
  if (!line) throw new Error('process_cpu_seconds_total is not in /metrics');
  return Number(line.split(' ')[1]);
}

/**
 * Waits until the app has worked off what the last phase left behind (relay to NATS, the
 * entitlement and audit consumers, projections): its CPU use stays under 10% of a core for a
 * second. Each phase then starts from a drained system; returns how long that took.
 */
async function drained(base: URL, maxMs = 180_000): Promise<number> {
  const started = performance.now();
  let before = await cpuSeconds(base);
  while (performance.now() - started < maxMs) {
    await new Promise((r) => setTimeout(r, 1_000));
    const after = await cpuSeconds(base);
    if (after - before < 0.1) break;
    before = after;
  }
  return performance.now() - started;
}

async function main(): Promise<void> {
  const wallStart = performance.now();
  const pg = await startPostgres();
  const nats = await startNats();
  const database = await createTestDatabase('custos_bench_hr');
  const namespace = `b${randomBytes(4).toString('hex')}`;
  const app = await startProcess('custos', 'apps/custos/src/main.ts', {
    DATABASE_URL: database.url,
    NATS_URL: nats.url,
    CUSTOS_NAMESPACE: namespace,
    CUSTOS_DEV_AUTH: 'true',
    CUSTOS_OIDC_ISSUER: undefined,
    LOG_LEVEL: 'warn',
  });
  const base = new URL(app.url);
  const db = createPgDatabase(database.url, { max: 20, applicationName: 'custos-bench-hr' });
  // The other build, if any: its own database and namespace, the same NATS and PostgreSQL.
  const versusDatabase = VERSUS ? await createTestDatabase('custos_bench_hr_versus') : undefined;
  const versusNamespace = `v${randomBytes(4).toString('hex')}`;
  const versusApp =
    VERSUS && versusDatabase
      ? await startProcess(
          'custos (versus)',
          'apps/custos/src/main.ts',
          { DATABASE_URL: versusDatabase.url, NATS_URL: nats.url, CUSTOS_NAMESPACE: versusNamespace, CUSTOS_DEV_AUTH: 'true', CUSTOS_OIDC_ISSUER: undefined, LOG_LEVEL: 'warn' },
          120_000,
          VERSUS,
        )
      : undefined;
  try {
    const hrToken = async (at: URL) => {
      const response = await fetch(new URL('/dev/token', at), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ sub: 'bench-hr', roles: ['custos:hr'] }) });
      return ((await response.json()) as { access_token: string }).access_token;
    };
    const token = await hrToken(base);
    const effectiveAt = new Date(Date.now() - 60_000).toISOString();
    const run = randomBytes(3).toString('hex');

    const noop = (): Call => ({ method: 'GET', path: '/health/live', ok: (s) => s === 200 });
    const hr = (type: 'joiner' | 'mover' | 'leaver', prefix: string, i: number, version: number): Call => ({
      method: 'POST',
      path: '/hr/events',
      body: JSON.stringify({ eventId: `bench-${run}-${type}-${prefix}${i}`, system: 'bench', type, effectiveAt, employee: employee(prefix, i, version) }),
      ok: (s, body) => s === 202 && body.includes('"status":"applied"'),
    });

    // Warm-up: connections, JIT, plans; the managers every later employee reports to.
    const warmUp = async (at: URL, bearer: string) => {
      await load(at, undefined, 2_000, CLIENTS, noop);
      const managers = await load(at, bearer, MANAGERS, 8, (i) => hr('joiner', 'M', i, 0));
      const warm = await load(at, bearer, 1_000, CLIENTS, (i) => hr('joiner', 'W', i, 0));
      for (const l of [managers, warm]) if (l.failures.size > 0) throw new Error(`warm-up failed: ${JSON.stringify([...l.failures])}`);
    };
    await warmUp(base, token);
    const versusBase = versusApp ? new URL(versusApp.url) : undefined;
    const versusToken = versusBase ? await hrToken(versusBase) : '';
    if (versusBase) {
      await warmUp(versusBase, versusToken);
      await drained(versusBase);
    }
    const versusPhases: Array<{ name: string; hr: Load; cpuPerEventMs: number }> = [];

    if (STATEMENTS) await db.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
    const statementsReport: string[] = [];
    const phases: Array<{ name: string; hr: Load; noop: Load; drainMs: number; cpuPerEventMs: number; machineBusy: number | undefined; byProcess: string | undefined }> = [];
    await drained(base);
    for (const [name, type, version] of [
      ['joiners', 'joiner', 0],
      ['movers', 'mover', 1],
      ['leavers', 'leaver', 1],
    ] as const) {
      const baseline = await load(base, undefined, EVENTS, CLIENTS, noop);
      if (STATEMENTS) await db.query('SELECT pg_stat_statements_reset()');
      const cpuBefore = await cpuSeconds(base);
      const machineBefore = machineTicks();
      const processesBefore = cpuByProcess(app.pid);
      const measured = await load(base, token, EVENTS, CLIENTS, (i) => hr(type, 'E', i, version));
      const machineBusy = busySince(machineBefore);
      const byProcess = perEvent(processesBefore, cpuByProcess(app.pid), EVENTS);
      const drainMs = await drained(base);
      const cpuPerEventMs = ((await cpuSeconds(base)) - cpuBefore) * 1000 / EVENTS;
      if (STATEMENTS) statementsReport.push(`${name}:\n${await topStatements(db)}`);
      phases.push({ name, hr: measured, noop: baseline, drainMs, cpuPerEventMs, machineBusy, byProcess });
      const failed = [...measured.failures.values()].reduce((a, b) => a + b, 0);
      console.log(`${name}: ${fmt(rate(measured))} events/s, then ${(drainMs / 1000).toFixed(1)} s until the app was idle${failed ? `; ${failed} FAILED: ${JSON.stringify([...measured.failures].slice(0, 3))}` : ''}`);
      if (versusBase) {
        // The same phase on the other build, right after: drift on a shared machine hits both alike.
        const versusCpuBefore = await cpuSeconds(versusBase);
        const versusMeasured = await load(versusBase, versusToken, EVENTS, CLIENTS, (i) => hr(type, 'E', i, version));
        await drained(versusBase);
        versusPhases.push({ name, hr: versusMeasured, cpuPerEventMs: ((await cpuSeconds(versusBase)) - versusCpuBefore) * 1000 / EVENTS });
        console.log(`${name} (versus build): ${fmt(rate(versusMeasured))} events/s`);
      }
    }
    const rssAfterPhases = await rssOf(base);

    // Grow the read model to IDENTITIES rows: HrIntake from this process on the same database
    // (the webhook's transaction without HTTP); the app's projection fills identity.identities.
    const countRows = async () => Number((await db.query<{ n: string }>('SELECT count(*) AS n FROM identity.identities')).rows[0].n);
    const store = await SqlEventStore.open(db, { context: 'identity', schema: 'identity' });
    const runtime = { context: 'identity' as const, db, store, bus: new InProcessBus(), clock: () => new Date(), logger: createLogger(readConfig({ LOG_LEVEL: 'warn' }), 'bench-seed'), publicUrl: 'http://localhost:3000' };
    const intake = new HrIntake(runtime, new EmployeeDirectory(db, 'identity'), new DurableScheduler(db, 'identity', runtime.clock));
    const beforeSeed = MANAGERS + 1_000 + EVENTS;
    while ((await countRows()) < beforeSeed) await new Promise((r) => setTimeout(r, 250));
    const toSeed = Math.max(0, IDENTITIES - beforeSeed);
    const seedStart = performance.now();
    let seeded = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        for (let i = seeded++; i < toSeed; i = seeded++) {
          await intake.receive({ eventId: `seed-${run}-${i}`, system: 'bench-seed', type: 'joiner', effectiveAt, employee: employee('S', i, 0), channel: 'api' });
        }
      }),
    );
    const seedMs = performance.now() - seedStart;
    const target = beforeSeed + toSeed;
    const projectedStart = performance.now();
    while ((await countRows()) < target) await new Promise((r) => setTimeout(r, 250));
    const projectionLagMs = performance.now() - projectedStart;
    await store.close();
    const rows = await countRows();
    await db.query('VACUUM ANALYZE identity.identities');
    const { rows: size } = await db.query<{ total: string; heap: string; indexes: string; toast: string }>(
      `SELECT pg_total_relation_size('identity.identities') AS total, pg_relation_size('identity.identities') AS heap,
              pg_indexes_size('identity.identities') AS indexes,
              coalesce(pg_total_relation_size(reltoastrelid), 0) AS toast
       FROM pg_class WHERE oid = 'identity.identities'::regclass`,
    );
    const rssAt100k = await rssOf(base);
    const { rows: settings } = await db.query<{ version: string; fsync: string; sync: string }>(
      `SELECT split_part(version(), ' ', 2) AS version, current_setting('fsync') AS fsync, current_setting('synchronous_commit') AS sync`,
    );

    console.log(`\nCustos all-in-one on PostgreSQL ${settings[0].version} (fsync=${settings[0].fsync}, synchronous_commit=${settings[0].sync}) and NATS ${nats.url};`);
    console.log(`${fmt(EVENTS)} events per phase, ${CLIENTS} keep-alive clients; baseline: GET /health/live of the same process, same load generator, just before each phase;`);
    console.log(`each phase starts once the app is idle again (its consumers and projections caught up); load average at the end ${loadavg().map((l) => l.toFixed(1)).join(' ')} on ${cpus().length} CPUs\n`);
    console.log(
      ['phase'.padEnd(8), 'events/s'.padStart(9), 'p50 ms'.padStart(7), 'p99 ms'.padStart(7), '| no-op req/s'.padStart(13), 'p50 ms'.padStart(7), 'p99 ms'.padStart(7), '| ratio'.padStart(8), '  targets (>= 1,500/s, p99 < 50 ms)'].join(' '),
    );
    let failed = false;
    for (const p of phases) {
      const errors = [...p.hr.failures.values()].reduce((a, b) => a + b, 0);
      const ok = rate(p.hr) >= TARGET_RATE && percentile(p.hr, 99) < TARGET_P99_MS && errors === 0;
      failed ||= !ok;
      console.log(
        [
          p.name.padEnd(8),
          fmt(rate(p.hr)).padStart(9),
          percentile(p.hr, 50).toFixed(1).padStart(7),
          percentile(p.hr, 99).toFixed(1).padStart(7),
          `| ${fmt(rate(p.noop))}`.padStart(13),
          percentile(p.noop, 50).toFixed(1).padStart(7),
          percentile(p.noop, 99).toFixed(1).padStart(7),
          `| ${(rate(p.hr) / rate(p.noop)).toFixed(2)}`.padStart(8),
          `  ${ok ? 'pass' : 'FAIL'}${errors ? ` (${errors} failed requests)` : ''}`,
        ].join(' '),
      );
    }
    if (versusPhases.length > 0) {
      console.log(`\nthis build against ${VERSUS}, phase by phase in the same run (ratio > 1: this build does more events/s, or uses more CPU per event):`);
      console.log(['phase'.padEnd(8), 'events/s'.padStart(9), 'versus'.padStart(9), 'ratio'.padStart(6), '| CPU µs/event'.padStart(14), 'versus'.padStart(7), 'ratio'.padStart(6)].join(' '));
      for (const [i, v] of versusPhases.entries()) {
        const p = phases[i];
        console.log(
          [
            p.name.padEnd(8),
            fmt(rate(p.hr)).padStart(9),
            fmt(rate(v.hr)).padStart(9),
            (rate(p.hr) / rate(v.hr)).toFixed(2).padStart(6),
            `| ${(p.cpuPerEventMs * 1000).toFixed(0)}`.padStart(14),
            (v.cpuPerEventMs * 1000).toFixed(0).padStart(7),
            (p.cpuPerEventMs / v.cpuPerEventMs).toFixed(2).padStart(6),
          ].join(' '),
        );
      }
    }
    const s = size[0];
    console.log(`\nidentity read model (identity.identities) at ${fmt(rows)} identities:`);
    console.log(`  pg_total_relation_size ${mib(Number(s.total))} (heap ${mib(Number(s.heap))}, indexes ${mib(Number(s.indexes))}, toast ${mib(Number(s.toast))}); ${fmt(Number(s.total) / rows)} bytes per identity`);
    console.log(`  seeded ${fmt(toSeed)} joiners via HrIntake.receive in this process (16 concurrent) in ${(seedMs / 1000).toFixed(1)} s (${fmt((toSeed * 1000) / seedMs)}/s); projection caught up ${(projectionLagMs / 1000).toFixed(1)} s later`);
    console.log(`  app process RSS: ${mib(rssAfterPhases)} after the phases, ${mib(rssAt100k)} at ${fmt(rows)} identities`);
    console.log(`  after each phase the app worked ${phases.map((p) => `${p.name} ${(p.drainMs / 1000).toFixed(1)} s`).join(', ')} until idle (relay, entitlement and audit consumers, projections)`);
    console.log(`  app CPU per HR event, its downstream work included: ${phases.map((p) => `${p.name} ${(p.cpuPerEventMs * 1000).toFixed(0)} µs`).join(', ')}`);
    for (const p of phases) if (p.byProcess) console.log(`  CPU per HR event during ${p.name} (µs, while the load ran): ${p.byProcess}`);
    if (phases.every((p) => p.machineBusy !== undefined)) console.log(`  machine CPU busy during each phase (all processes, ${cpus().length} CPUs): ${phases.map((p) => `${p.name} ${(p.machineBusy! * 100).toFixed(0)}%`).join(', ')}`);
    if (STATEMENTS) console.log(`\nthe database's busiest statements in each phase (pg_stat_statements: calls, total ms, µs per call, rows, the statement's end):\n${statementsReport.join('\n')}`);
    console.log(`\n(${((performance.now() - wallStart) / 1000).toFixed(1)} s)`);
    process.exitCode = failed ? 1 : 0;
  } finally {
    await app.stop();
    await versusApp?.stop();
    await versusDatabase?.drop();
    if (versusApp) await removeNamespaceStreamsAt(nats.url, versusNamespace);
    await db.close();
    await database.drop();
    // The run's streams stay on a NATS server that outlives the benchmark (NATS_URL) otherwise: 31,000 messages a run.
    await removeNamespaceStreamsAt(nats.url, namespace);
    await nats.stop();
    await pg.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
