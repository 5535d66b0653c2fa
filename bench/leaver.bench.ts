/**
 * Leaver benchmark: how soon a leaver loses access. One leaver at a time through
 * `POST /hr/events` (effective now), then, as soon as HR has its answer, two clients poll until
 * the change shows: `GET /check` (allowed:false) and `GET /access/{id}` (no grants left). Each
 * time is measured from the moment the POST was sent.
 *
 *   npm run bench:leaver                                   (200 leavers per mode, both modes)
 *   npm run bench:leaver -- --leavers 1000 --mode nats     (--mode embedded | nats | both)
 *
 * Modes: (a) `npm start` as shipped, the all-in-one on the embedded store (PGlite) and the
 * in-process bus; (b) the all-in-one over PostgreSQL and NATS JetStream (DATABASE_URL / NATS_URL,
 * else a throwaway local PostgreSQL and nats-server), where the leaver travels store -> relay ->
 * JetStream -> the entitlement consumer -> the entitlement store -> the access view.
 *
 * Baselines of the same run and process, with the same client: the HR POST round trip itself
 * (the leaver's own answer) and the no-op `GET /health/live`. Ratios are to the HR POST and to
 * the raw hops: the durable steps a leaver takes however fast the code around them were, timed
 * with the raw clients on the same servers in the same run. Over PostgreSQL and NATS: a commit
 * (the identity's), a JetStream publish acknowledged and pulled by a durable consumer, and a
 * second commit (the entitlement's); embedded: the two commits on PGlite.
 * The pollers wait 1 ms between requests (a poll costs the app a request; nothing else runs).
 * Target (quiet 2-core machine): p99 of leaver-to-deny and leaver-to-no-grant under 20 ms in both modes.
 */
import { jetstream, jetstreamManager, AckPolicy } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import * as path from 'node:path';
import { createPgDatabase, createPgliteDatabase, type SqlDatabase } from '../libs/platform/event-store/src';
import { removeNamespaceStreamsAt, startNats } from '../libs/platform/testing/src/nats';
import { createTestDatabase, startPostgres } from '../libs/platform/testing/src/postgres';
import { startProcess, type RunningProcess } from '../test/support/processes';
import { getRequest, HttpConnection, percentile, postJsonRequest, type Run } from './support/load';

function flag(name: string): string | undefined {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? process.argv[at + 1] : undefined;
}

const LEAVERS = Number(flag('leavers') ?? 200);
const MODE = flag('mode') ?? 'both';
const WARM_UP = Math.min(50, Math.max(10, Math.round(LEAVERS / 10)));
const NOOPS = 500;
const TARGET_P99_MS = 20;
const POLL_PAUSE_MS = 1;
/** A leaver not seen by either poller within this long fails the run. */
const GIVE_UP_MS = 30_000;

if (!Number.isInteger(LEAVERS) || LEAVERS < 1) throw new Error(`--leavers must be a positive integer, got ${flag('leavers')}`);
if (!['embedded', 'nats', 'both'].includes(MODE)) throw new Error(`--mode must be embedded, nats or both, got ${MODE}`);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const runOf = (latencies: number[]): Run => ({ count: latencies.length, ms: 0, cpuMs: 0, latencies });

interface ModeResult {
  mode: string;
  /** The raw hops of a leaver, without Custos (see the header). */
  floor: Run;
  noop: Run;
  hr: Run;
  deny: Run;
  noGrant: Run;
}

async function json(url: string, init: RequestInit & { token?: string } = {}): Promise<{ status: number; body: any }> {
  const headers: Record<string, string> = { ...(init.body ? { 'content-type': 'application/json' } : {}), ...(init.token ? { authorization: `Bearer ${init.token}` } : {}) };
  const response = await fetch(url, { ...init, headers });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

async function expectStatus(what: string, answer: Promise<{ status: number; body: any }>, status: number): Promise<any> {
  const { status: got, body } = await answer;
  if (got !== status) throw new Error(`${what}: expected ${status}, got ${got} ${JSON.stringify(body)}`);
  return body;
}

/** One mode's measurement against a running all-in-one at `base`. */
async function measure(mode: string, base: string): Promise<Omit<ModeResult, 'floor'>> {
  const token = async (sub: string, roles: string[]) =>
    ((await expectStatus('dev token', json(`${base}/dev/token`, { method: 'POST', body: JSON.stringify({ sub, roles }) }), 200)) as { access_token: string }).access_token;
  // /check may be limited to administrators and the identity itself: the pollers are administrators.
  const admin = await token('bench-leaver-admin', ['custos:admin']);
  const hr = await token('bench-leaver-hr', ['custos:hr']);
  const run = randomBytes(3).toString('hex');
  const entitlement = `bench:leaver-${run}`;
  const asAdmin = (p: string, body: unknown) => json(`${base}${p}`, { method: 'POST', token: admin, body: JSON.stringify(body) });
  await expectStatus('entitlement', asAdmin('/catalog/entitlements', { key: entitlement, application: 'bench', name: 'Bench access', privileged: false, risk: 'low' }), 201);
  await expectStatus('role', asAdmin('/roles', { key: `bench-role-${run}`, name: 'Bench role', entitlements: [entitlement] }), 201);
  await expectStatus('rule', asAdmin('/birthright-rules', { key: `bench-rule-${run}`, name: 'Bench rule', when: { department: `Bench-${run}` }, roles: [`bench-role-${run}`] }), 201);

  const effectiveAt = () => new Date(Date.now() - 1_000).toISOString();
  const employee = (i: number) => ({
    employeeId: `L${i}-${run}`,
    givenName: `Given${i}`,
    familyName: `Family${i}`,
    email: `l${i}-${run}@bench.example.com`,
    department: `Bench-${run}`,
    employmentType: 'employee' as const,
  });
  const hrBody = (type: 'joiner' | 'leaver', i: number) => JSON.stringify({ eventId: `bench-${run}-${type}-${i}`, system: 'bench', type, effectiveAt: effectiveAt(), employee: employee(i) });

  // Joiners, 8 at a time, each with its birthright grant before any leaver is measured.
  const total = WARM_UP + LEAVERS;
  const ids: string[] = new Array(total);
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      for (let i = next++; i < total; i = next++) {
        const body = await expectStatus('joiner', json(`${base}/hr/events`, { method: 'POST', token: hr, body: hrBody('joiner', i) }), 202);
        ids[i] = body.identityId;
      }
    }),
  );
  const deadline = Date.now() + 300_000;
  for (const id of ids) {
    for (;;) {
      const { body } = await json(`${base}/access/${id}`, { token: admin });
      if (body?.grants?.length === 1) break;
      if (Date.now() > deadline) throw new Error(`joiner ${id} never got its birthright grant: ${JSON.stringify(body)}`);
      await sleep(20);
    }
  }

  const [hrConn, checkConn, accessConn, noopConn] = await Promise.all([base, base, base, base].map((b) => HttpConnection.open(b)));
  try {
    const auth = { authorization: `Bearer ${admin}` };
    const noopRequest = getRequest(base, '/health/live');
    const noop: number[] = [];
    for (let i = 0; i < NOOPS; i++) {
      const t0 = performance.now();
      const answer = await noopConn.send(noopRequest);
      if (answer.status !== 200) throw new Error(`GET /health/live: ${answer.status}`);
      if (i >= NOOPS / 5) noop.push(performance.now() - t0);
    }

    const pollUntil = async (conn: HttpConnection, request: Buffer, done: (body: string) => boolean, t0: number, what: string): Promise<number> => {
      for (;;) {
        const answer = await conn.send(request);
        const at = performance.now();
        if (answer.status !== 200) throw new Error(`${what}: ${answer.status} ${answer.body.slice(0, 200)}`);
        if (done(answer.body)) return at - t0;
        if (at - t0 > GIVE_UP_MS) throw new Error(`${what}: not seen within ${GIVE_UP_MS} ms; last answer ${answer.body.slice(0, 200)}`);
        await sleep(POLL_PAUSE_MS);
      }
    };

    const hrTimes: number[] = [];
    const denyTimes: number[] = [];
    const noGrantTimes: number[] = [];
    for (let i = 0; i < total; i++) {
      const id = ids[i];
      const post = postJsonRequest(base, '/hr/events', hrBody('leaver', i), { authorization: `Bearer ${hr}` });
      const check = getRequest(base, `/check?identityId=${encodeURIComponent(id)}&entitlement=${encodeURIComponent(entitlement)}`, auth);
      const access = getRequest(base, `/access/${encodeURIComponent(id)}`, auth);
      const t0 = performance.now();
      const answer = await hrConn.send(post);
      const hrMs = performance.now() - t0;
      if (answer.status !== 202 || !answer.body.includes('"applied"')) throw new Error(`leaver ${i}: ${answer.status} ${answer.body.slice(0, 200)}`);
      const [denyMs, noGrantMs] = await Promise.all([
        pollUntil(checkConn, check, (body) => body.includes('"allowed":false'), t0, `GET /check for leaver ${i}`),
        pollUntil(accessConn, access, (body) => body.includes('"grants":[]'), t0, `GET /access for leaver ${i}`),
      ]);
      if (i < WARM_UP) continue;
      hrTimes.push(hrMs);
      denyTimes.push(denyMs);
      noGrantTimes.push(noGrantMs);
      // Let the pipeline settle (audit, views) so that each leaver meets a quiet system.
      await sleep(5);
    }
    return { mode, noop: runOf(noop), hr: runOf(hrTimes), deny: runOf(denyTimes), noGrant: runOf(noGrantTimes) };
  } finally {
    for (const conn of [hrConn, checkConn, accessConn, noopConn]) conn.close();
  }
}

/** A commit as the app makes one: its own BEGIN and COMMIT round trips around one INSERT. */
async function commitOne(db: SqlDatabase, id: string): Promise<void> {
  await db.transaction((tx) => tx.query('INSERT INTO bench_leaver_floor (id) VALUES ($1)', [id]));
}

/** The raw hops of `count` leavers on PGlite: two commits, one after the other, in this process. */
async function rawHopsEmbedded(count: number): Promise<Run> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'custos-bench-leaver-floor-'));
  const db = await createPgliteDatabase(dataDir);
  try {
    await db.query('CREATE TABLE bench_leaver_floor (id text PRIMARY KEY, at timestamptz NOT NULL DEFAULT now())');
    const times: number[] = [];
    for (let i = 0; i < WARM_UP + count; i++) {
      const t0 = performance.now();
      await commitOne(db, `a-${i}`);
      await commitOne(db, `b-${i}`);
      if (i >= WARM_UP) times.push(performance.now() - t0);
      await sleep(5);
    }
    return runOf(times);
  } finally {
    await db.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/**
 * The raw hops of `count` leavers over PostgreSQL and NATS: a commit, a JetStream publish
 * (awaiting its ack), delivery to a durable pull consumer, and a commit there before the ack.
 */
async function rawHopsNats(databaseUrl: string, natsUrl: string, namespace: string, count: number): Promise<Run> {
  // The app's own pool (pg with one client per transaction): a commit costs what it costs there.
  const db = createPgDatabase(databaseUrl, { max: 4, applicationName: 'custos-bench-floor' });
  const nc = await connect({ servers: natsUrl });
  const stream = `${namespace}_floor`;
  try {
    await db.query('CREATE TABLE bench_leaver_floor (id text PRIMARY KEY, at timestamptz NOT NULL DEFAULT now())');
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: stream, subjects: [`${namespace}.floor.>`] });
    await jsm.consumers.add(stream, { durable_name: 'floor', ack_policy: AckPolicy.Explicit });
    const js = jetstream(nc);
    const messages = await (await js.consumers.get(stream, 'floor')).consume({ max_messages: 64 });
    const arrived = new Map<string, () => void>();
    const consuming = (async () => {
      for await (const m of messages) {
        const id = m.string();
        await commitOne(db, `b-${id}`);
        m.ack();
        arrived.get(id)?.();
      }
    })();
    const times: number[] = [];
    for (let i = 0; i < WARM_UP + count; i++) {
      const id = String(i);
      const handled = new Promise<void>((resolve) => arrived.set(id, resolve));
      const t0 = performance.now();
      await commitOne(db, `a-${id}`);
      await js.publish(`${namespace}.floor.leaver`, id, { msgID: id });
      await handled;
      if (i >= WARM_UP) times.push(performance.now() - t0);
      await sleep(5);
    }
    await messages.close();
    await consuming;
    return runOf(times);
  } finally {
    await (await jetstreamManager(nc)).streams.delete(stream).catch(() => undefined);
    await nc.close();
    await db.close();
  }
}

async function embedded(): Promise<ModeResult> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'custos-bench-leaver-'));
  let app: RunningProcess | undefined;
  try {
    app = await startProcess('custos', 'apps/custos/src/main.ts', {
      CUSTOS_DATA_DIR: dataDir,
      CUSTOS_DEV_AUTH: 'true',
      DATABASE_URL: undefined,
      NATS_URL: undefined,
      CUSTOS_NAMESPACE: undefined,
      CUSTOS_OIDC_ISSUER: undefined,
      LOG_LEVEL: 'warn',
    });
    const result = await measure('embedded (PGlite, in-process bus)', app.url);
    return { ...result, floor: await rawHopsEmbedded(LEAVERS) };
  } finally {
    await app?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function overNats(): Promise<ModeResult> {
  const pg = await startPostgres();
  const nats = await startNats();
  const database = await createTestDatabase('custos_bench_leaver');
  const namespace = `b${randomBytes(4).toString('hex')}`;
  let app: RunningProcess | undefined;
  try {
    app = await startProcess('custos', 'apps/custos/src/main.ts', {
      DATABASE_URL: database.url,
      NATS_URL: nats.url,
      CUSTOS_NAMESPACE: namespace,
      CUSTOS_DEV_AUTH: 'true',
      CUSTOS_OIDC_ISSUER: undefined,
      LOG_LEVEL: 'warn',
    });
    const result = await measure('PostgreSQL + NATS', app.url);
    return { ...result, floor: await rawHopsNats(database.url, nats.url, namespace, LEAVERS) };
  } finally {
    await app?.stop();
    await database.drop();
    await removeNamespaceStreamsAt(nats.url, namespace);
    await nats.stop();
    await pg.stop();
  }
}

async function main(): Promise<void> {
  const wallStart = performance.now();
  const results: ModeResult[] = [];
  if (MODE !== 'nats') results.push(await embedded());
  if (MODE !== 'embedded') results.push(await overNats());

  console.log(`\nCustos all-in-one, ${LEAVERS} leavers one at a time per mode (after ${WARM_UP} for warm-up), each timed from sending POST /hr/events;`);
  console.log(`after HR's answer, two clients poll GET /check (until allowed:false) and GET /access/{id} (until no grants), ${POLL_PAUSE_MS} ms apart.`);
  console.log(`Baselines of the same run and process: the leaver's own HR POST round trip, the no-op GET /health/live, and the raw hops`);
  console.log(`(no Custos: over PostgreSQL and NATS, commit -> JetStream publish, ack -> durable pull consumer -> commit; embedded, two PGlite commits).`);
  console.log(`Load average at the end ${loadavg().map((l) => l.toFixed(1)).join(' ')} on ${cpus().length} CPUs.\n`);
  const header = ['mode'.padEnd(34), 'measure'.padEnd(32), 'p50 ms'.padStart(7), 'p99 ms'.padStart(7), 'max ms'.padStart(7), '| ÷ HR POST p50'.padStart(15), 'p99'.padStart(6), '| ÷ raw hops p50'.padStart(16), 'p99'.padStart(6), `  target p99 < ${TARGET_P99_MS} ms`];
  console.log(header.join(' '));
  let failed = false;
  for (const r of results) {
    const rows: Array<[string, Run, boolean]> = [
      ['no-op GET /health/live', r.noop, false],
      ['HR POST /hr/events (leaver)', r.hr, false],
      ['raw hops (no Custos)', r.floor, false],
      ['leaver -> GET /check denies', r.deny, true],
      ['leaver -> GET /access no grants', r.noGrant, true],
    ];
    rows.forEach(([name, run, targeted], i) => {
      const p50 = percentile(run, 50);
      const p99 = percentile(run, 99);
      const ok = p99 < TARGET_P99_MS;
      if (targeted) failed ||= !ok;
      console.log(
        [
          (i === 0 ? r.mode : '').padEnd(34),
          name.padEnd(32),
          p50.toFixed(1).padStart(7),
          p99.toFixed(1).padStart(7),
          Math.max(...run.latencies).toFixed(1).padStart(7),
          `| ${(p50 / percentile(r.hr, 50)).toFixed(2)}`.padStart(15),
          (p99 / percentile(r.hr, 99)).toFixed(2).padStart(6),
          `| ${(p50 / percentile(r.floor, 50)).toFixed(2)}`.padStart(16),
          (p99 / percentile(r.floor, 99)).toFixed(2).padStart(6),
          targeted ? `  ${ok ? 'pass' : 'FAIL'}` : '',
        ].join(' '),
      );
    });
  }
  console.log(`\n(${((performance.now() - wallStart) / 1000).toFixed(1)} s)`);
  process.exitCode = failed ? 1 : 0;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
