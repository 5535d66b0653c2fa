/**
 * Access request benchmark, distributed mode: the four services as separate processes over NATS
 * JetStream and PostgreSQL (DATABASE_URL / NATS_URL when set, else a throwaway local PostgreSQL
 * and nats-server), behind the test router, with a real OIDC issuer.
 *
 *   npm run bench:requests                                    (100 requests measured, 200 in flight)
 *   npm run bench:requests -- --requests 300 --concurrent 500
 *
 * What it measures, on the same deployment in the same run:
 * - approval to access: one request at a time (its beneficiary asks, the manager approves); from
 *   the approval's 2xx arriving to GET /check answering allowed. The path: the request's commit,
 *   relay to JetStream, the request service's fulfilment, rpc.entitlement.grant-request (core
 *   NATS), the entitlement service's commit, its check view.
 * - expiry to deny: each of those grants is just in time (PT6S); from its `expiresAt` to GET
 *   /check answering denied (the check view denies from the end itself, before the expiry job),
 *   and, beside it, from `expiresAt` to the request showing `ended` (the durable scheduler's job,
 *   AccessRevoked over JetStream back to the request service: the grant ends once, by itself).
 * - the floor under both paths, timed with raw clients on the same servers: a JetStream publish
 *   (acknowledged) to its delivery to a durable pull consumer, and a PostgreSQL commit
 *   (BEGIN, INSERT, COMMIT on the app's pool). Ratios are to their sum (the least a
 *   commit-then-publish path costs) and to the JetStream round trip alone.
 * - where the approval's time went: RequestApproved to AccessGranted (relay, JetStream, the
 *   fulfilment, the RPC, up to the grant's transaction) and AccessGranted to GET /check allowing
 *   (that transaction's rest and the check view), from the events' recorded times in the audit log
 *   (an event's `time` is when its transaction began);
 * - 200 requests in flight at once (submitted together, approved together): every one fulfilled
 *   with exactly one grant, counted in GET /access of each beneficiary (no lost, no duplicated grant).
 *
 * Targets (quiet machine): approval-to-access p99 < 100 ms, expiry-to-deny p99 < 1 s; when the
 * floor itself is above a target, the ratio to the floor is what counts and the run does not fail on it.
 */
import { jetstream, jetstreamManager, AckPolicy } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { cpus, loadavg } from 'node:os';
import { createPgDatabase } from '../libs/platform/event-store/src/pg-database';
import { startDistributed, type Deployment } from '../test/support/deployment';
import { getRequest, HttpConnection, percentile, type Run } from './support/load';

function flag(name: string): string | undefined {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? process.argv[at + 1] : undefined;
}

const REQUESTS = Number(flag('requests') ?? 100);
const CONCURRENT = Number(flag('concurrent') ?? 200);
const WARM_UP = 10;
const FLOOR_SAMPLES = 300;
const JIT = 'PT6S';
const TARGET_ACCESS_P99_MS = 100;
const TARGET_DENY_P99_MS = 1_000;
const POLL_PAUSE_MS = 1;
/**
 * How often each request is polled for `ended`. Coarse on purpose: a request read is a stream read
 * in the request service, and with the scheduler's path taking seconds under load a hundred
 * pollers at 10 ms would be a load of their own on the services' two cores.
 */
const ENDED_POLL_MS = 50;
const GIVE_UP_MS = 60_000;

if (!Number.isInteger(REQUESTS) || REQUESTS < 1) throw new Error(`--requests must be a positive integer, got ${flag('requests')}`);
if (!Number.isInteger(CONCURRENT) || CONCURRENT < 1) throw new Error(`--concurrent must be a positive integer, got ${flag('concurrent')}`);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** Wall-clock time in ms with the monotonic clock's resolution: compared with the services' RFC 3339 times (same machine, same clock). */
const wallNow = () => performance.timeOrigin + performance.now();
const runOf = (latencies: number[]): Run => ({ count: latencies.length, ms: 0, cpuMs: 0, latencies });
const run = Math.random().toString(16).slice(2, 8);

type Answer = { status: number; body: any };

/** The public API of the deployment as the benchmark drives it, tokens cached per identity. */
class Api {
  private readonly tokens = new Map<string, Promise<string>>();

  constructor(private readonly deployment: Deployment) {}

  token(sub: string, roles: string[] = []): Promise<string> {
    const key = `${sub} ${roles.join(',')}`;
    let token = this.tokens.get(key);
    if (!token) this.tokens.set(key, (token = this.deployment.client.token(sub, roles)));
    return token;
  }

  async call(sub: string, method: string, path: string, body?: unknown, roles: string[] = []): Promise<Answer> {
    return this.deployment.client.call(method, path, { token: await this.token(sub, roles), body });
  }

  async must(what: string, answer: Promise<Answer>, ...statuses: number[]): Promise<any> {
    const { status, body } = await answer;
    if (!statuses.includes(status)) throw new Error(`${what}: expected ${statuses.join('/')}, got ${status} ${JSON.stringify(body).slice(0, 300)}`);
    return body;
  }

  /** The service that serves `path` (the check pollers talk to it over a raw connection). */
  urlOf(service: string): string {
    return this.deployment.services[service].url;
  }
}

/** HR joiners, 8 at a time: the manager first, then `count` employees reporting to her. */
async function hire(api: Api, count: number): Promise<{ manager: string; employees: string[] }> {
  let event = 0;
  const joiner = async (employeeId: string, managerEmployeeId?: string) => {
    event += 1;
    const body = await api.must(
      `joiner ${employeeId}`,
      api.call('bench-hr', 'POST', '/hr/events', {
        eventId: `bench-${run}-${employeeId}`,
        system: 'bench',
        type: 'joiner',
        effectiveAt: new Date(Date.now() - 60_000 + event).toISOString(),
        employee: { employeeId, givenName: employeeId, familyName: 'Bench', email: `${employeeId.toLowerCase()}@bench.example.com`, department: `Bench-${run}`, employmentType: 'employee', ...(managerEmployeeId && { managerEmployeeId }) },
      }, ['custos:hr']),
      202,
    );
    return body.identityId as string;
  };
  const manager = await joiner(`M-${run}`);
  const employees: string[] = new Array(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      for (let i = next++; i < count; i = next++) employees[i] = await joiner(`E${i}-${run}`, `M-${run}`);
    }),
  );
  return { manager, employees };
}

/** A request the request service takes once it has heard of the beneficiary and the entitlement from their events. */
async function submit(api: Api, beneficiary: string, entitlement: string, duration?: string): Promise<any> {
  const deadline = Date.now() + GIVE_UP_MS;
  for (;;) {
    const answer = await api.call(beneficiary, 'POST', '/requests', { entitlement, justification: 'bench', ...(duration && { duration }) });
    if (answer.status === 201) return answer.body;
    if (answer.status !== 422 || Date.now() > deadline) throw new Error(`request by ${beneficiary}: ${answer.status} ${JSON.stringify(answer.body).slice(0, 300)}`);
    await sleep(100);
  }
}

/** Polls GET /check on its own connection until `done`, then answers the wall-clock time (ms) of that answer. */
async function pollCheck(conn: HttpConnection, request: Buffer, done: (body: string) => boolean, what: string): Promise<number> {
  const started = Date.now();
  for (;;) {
    const answer = await conn.send(request);
    const at = wallNow();
    if (answer.status !== 200) throw new Error(`${what}: ${answer.status} ${answer.body.slice(0, 200)}`);
    if (done(answer.body)) return at;
    if (Date.now() - started > GIVE_UP_MS) throw new Error(`${what}: not seen within ${GIVE_UP_MS} ms; last answer ${answer.body.slice(0, 200)}`);
    await sleep(POLL_PAUSE_MS);
  }
}

interface Measured {
  access: Run;
  approvedToGranted: Run;
  grantedToAllowed: Run;
  deny: Run;
  revoked: Run;
  ended: Run;
  concurrent: { requests: number; fulfilled: number; grants: number; duplicated: number; lost: number; seconds: number; statuses: Record<string, number> };
}

async function measure(api: Api, admin: string): Promise<Measured> {
  const single = `bench:jit-${run}`;
  const bulk = `bench:bulk-${run}`;
  const policy = { steps: [{ kind: 'manager', required: 1 }] };
  for (const key of [single, bulk]) {
    await api.must(`entitlement ${key}`, api.call(admin, 'POST', '/catalog/entitlements', { key, application: 'bench', name: key, privileged: false, risk: 'low', maxDuration: 'PT1H', approvalPolicy: policy }, ['custos:admin']), 201);
  }
  const { manager, employees } = await hire(api, Math.max(WARM_UP + REQUESTS, CONCURRENT));
  const adminToken = await api.token(admin, ['custos:admin']);
  const auth = { authorization: `Bearer ${adminToken}` };
  const checkUrl = api.urlOf('entitlement');
  const checkOf = (identityId: string, entitlement: string) => getRequest(checkUrl, `/check?identityId=${encodeURIComponent(identityId)}&entitlement=${encodeURIComponent(entitlement)}`, auth);

  // Approval to access, one request at a time; each grant's expiry is watched as it comes.
  const accessTimes: number[] = [];
  const denyTimes: number[] = [];
  const endedTimes: number[] = [];
  const revokedTimes: number[] = [];
  const measuredGrants: Array<{ beneficiary: string; allowedAt: number }> = [];
  const expiries: Array<Promise<void>> = [];
  const conn = await HttpConnection.open(checkUrl);
  try {
    for (let i = 0; i < WARM_UP + REQUESTS; i++) {
      const beneficiary = employees[i];
      const request = await submit(api, beneficiary, single, JIT);
      const approved = await api.must(`approval ${i}`, api.call(manager, 'POST', `/requests/${request.requestId}/approve`, {}), 200);
      const t0 = wallNow();
      if (approved.status !== 'approved' || !approved.expiresAt) throw new Error(`approval ${i}: ${JSON.stringify(approved).slice(0, 300)}`);
      const allowedAt = await pollCheck(conn, checkOf(beneficiary, single), (body) => body.includes('"allowed":true'), `GET /check after approval ${i}`);
      if (i < WARM_UP) continue;
      accessTimes.push(allowedAt - t0);
      measuredGrants.push({ beneficiary, allowedAt });
      const expiresAt = Date.parse(approved.expiresAt);
      expiries.push(
        (async () => {
          await sleep(Math.max(0, expiresAt - Date.now() - 50));
          const own = await HttpConnection.open(checkUrl);
          try {
            const deniedAt = await pollCheck(own, checkOf(beneficiary, single), (body) => body.includes('"allowed":false'), `GET /check after expiry ${i}`);
            denyTimes.push(deniedAt - expiresAt);
          } finally {
            own.close();
          }
          // The two halves of the scheduler's path: the expiry job revokes the grant (GET /access), the request learns it (ended).
          let revoked = false;
          for (;;) {
            if (!revoked) {
              const { body: access } = await api.call(admin, 'GET', `/access/${beneficiary}`, undefined, ['custos:admin']);
              if (!(access?.grants ?? []).some((grant: { requestId?: string }) => grant.requestId === request.requestId)) {
                revokedTimes.push(wallNow() - expiresAt);
                revoked = true;
              }
            }
            const { body } = await api.call(beneficiary, 'GET', `/requests/${request.requestId}`);
            if (body?.status === 'ended') {
              endedTimes.push(wallNow() - expiresAt);
              if (!revoked) revokedTimes.push(wallNow() - expiresAt);
              return;
            }
            if (Date.now() - expiresAt > GIVE_UP_MS) throw new Error(`request ${request.requestId} did not end: ${JSON.stringify(body).slice(0, 300)}`);
            await sleep(ENDED_POLL_MS);
          }
        })(),
      );
    }
    await Promise.all(expiries);
  } finally {
    conn.close();
  }

  // Where the approval's time went, from the events' recorded times in the audit log (an event's
  // `time` is its transaction's now(): when the transaction that wrote it began).
  const approvedToGranted: number[] = [];
  const grantedToAllowed: number[] = [];
  for (const { beneficiary, allowedAt } of measuredGrants) {
    const deadline = Date.now() + GIVE_UP_MS;
    for (;;) {
      const { body } = await api.call(`bench-auditor-${run}`, 'GET', `/audit/events?identityId=${encodeURIComponent(beneficiary)}&limit=100`, undefined, ['custos:auditor']);
      const timeOf = (name: string) => Date.parse((body?.items ?? []).find((e: { name: string; data?: { entitlement?: string; target?: { key: string } } }) => e.name === name && (e.data?.entitlement ?? e.data?.target?.key) === single)?.time ?? '');
      const [approvedAt, grantedAt] = [timeOf('RequestApproved'), timeOf('AccessGranted')];
      if (!Number.isNaN(approvedAt) && !Number.isNaN(grantedAt)) {
        approvedToGranted.push(grantedAt - approvedAt);
        grantedToAllowed.push(allowedAt - grantedAt);
        break;
      }
      if (Date.now() > deadline) throw new Error(`the audit log has no RequestApproved and AccessGranted of ${beneficiary}: ${JSON.stringify(body).slice(0, 300)}`);
      await sleep(200);
    }
  }

  // CONCURRENT requests in flight: submitted together, approved together, each granted exactly once.
  const concurrentStart = performance.now();
  const beneficiaries = employees.slice(0, CONCURRENT);
  const requests = await Promise.all(beneficiaries.map((beneficiary) => submit(api, beneficiary, bulk)));
  await Promise.all(requests.map((request, i) => api.must(`concurrent approval ${i}`, api.call(manager, 'POST', `/requests/${request.requestId}/approve`, {}), 200)));
  // Slow is not lost: wait while requests keep being fulfilled, and give up only after GIVE_UP_MS without progress.
  let fulfilled = 0;
  let statuses: Record<string, number> = {};
  let progressAt = Date.now();
  for (;;) {
    const answers = await Promise.all(requests.map((request) => api.call(admin, 'GET', `/requests/${request.requestId}`, undefined, ['custos:admin'])));
    statuses = {};
    for (const answer of answers) statuses[String(answer.body?.status)] = (statuses[String(answer.body?.status)] ?? 0) + 1;
    const now = answers.filter((a) => a.body?.status === 'fulfilled').length;
    if (now > fulfilled) progressAt = Date.now();
    fulfilled = now;
    if (fulfilled === requests.length || Date.now() - progressAt > GIVE_UP_MS) break;
    await sleep(500);
  }
  const seconds = (performance.now() - concurrentStart) / 1000;
  const held = await Promise.all(beneficiaries.map((beneficiary) => api.call(admin, 'GET', `/access/${beneficiary}`, undefined, ['custos:admin'])));
  let grants = 0;
  let duplicated = 0;
  let lost = 0;
  held.forEach((answer, i) => {
    const mine = (answer.body?.grants ?? []).filter((grant: { entitlement: string; requestId?: string }) => grant.entitlement === bulk && grant.requestId === requests[i].requestId);
    grants += mine.length;
    if (mine.length === 0) lost += 1;
    if (mine.length > 1) duplicated += mine.length - 1;
  });
  return { access: runOf(accessTimes), approvedToGranted: runOf(approvedToGranted), grantedToAllowed: runOf(grantedToAllowed), deny: runOf(denyTimes), revoked: runOf(revokedTimes), ended: runOf(endedTimes), concurrent: { requests: requests.length, fulfilled, grants, duplicated, lost, seconds, statuses } };
}

/** The raw floor: a JetStream publish (acknowledged) until a durable pull consumer has it, and a PostgreSQL commit, each FLOOR_SAMPLES times. */
async function floor(databaseUrl: string, natsUrl: string, namespace: string): Promise<{ jetstream: Run; commit: Run }> {
  const db = createPgDatabase(databaseUrl, { max: 4, applicationName: 'custos-bench-requests-floor' });
  const nc = await connect({ servers: natsUrl });
  const stream = `${namespace}_requests_floor`;
  try {
    await db.query('CREATE TABLE IF NOT EXISTS bench_requests_floor (id text PRIMARY KEY, at timestamptz NOT NULL DEFAULT now())');
    const commits: number[] = [];
    for (let i = 0; i < WARM_UP + FLOOR_SAMPLES; i++) {
      const t0 = performance.now();
      await db.transaction((tx) => tx.query('INSERT INTO bench_requests_floor (id) VALUES ($1)', [`${run}-${i}`]));
      if (i >= WARM_UP) commits.push(performance.now() - t0);
      await sleep(2);
    }
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: stream, subjects: [`${namespace}.requests-floor.>`] });
    await jsm.consumers.add(stream, { durable_name: 'floor', ack_policy: AckPolicy.Explicit });
    const js = jetstream(nc);
    const messages = await (await js.consumers.get(stream, 'floor')).consume({ max_messages: 64 });
    const arrived = new Map<string, () => void>();
    const consuming = (async () => {
      for await (const m of messages) {
        m.ack();
        arrived.get(m.string())?.();
      }
    })();
    const trips: number[] = [];
    for (let i = 0; i < WARM_UP + FLOOR_SAMPLES; i++) {
      const id = String(i);
      const handled = new Promise<void>((resolve) => arrived.set(id, resolve));
      const t0 = performance.now();
      await js.publish(`${namespace}.requests-floor.x`, id, { msgID: `${run}-${id}` });
      await handled;
      if (i >= WARM_UP) trips.push(performance.now() - t0);
      await sleep(2);
    }
    await messages.close();
    await consuming;
    return { jetstream: runOf(trips), commit: runOf(commits) };
  } finally {
    await (await jetstreamManager(nc)).streams.delete(stream).catch(() => undefined);
    await nc.close();
    await db.close();
  }
}

async function main(): Promise<void> {
  const wallStart = performance.now();
  const deployment = await startDistributed('custos_bench_requests');
  let measured: Measured;
  let raw: { jetstream: Run; commit: Run };
  try {
    const api = new Api(deployment);
    measured = await measure(api, `bench-admin-${run}`);
    raw = await floor(deployment.env.DATABASE_URL!, deployment.env.NATS_URL!, deployment.env.CUSTOS_NAMESPACE!);
  } finally {
    await deployment.stop();
  }

  const floorRun = runOf(raw.jetstream.latencies.map((trip, i) => trip + raw.commit.latencies[i % raw.commit.latencies.length]));
  console.log(`\nCustos distributed (identity, entitlement, request, audit services; NATS JetStream; PostgreSQL): ${REQUESTS} requests one at a time (after ${WARM_UP} for warm-up),`);
  console.log(`each approved by the manager and timed from the approval's 2xx to GET /check allowing it; each just in time (${JIT}), timed from its expiresAt to GET /check denying it`);
  console.log(`to the expiry job's revocation (GET /access) and to the request showing ended. GET /check polled on a raw keep-alive connection, ${POLL_PAUSE_MS} ms apart; /access and the request every ${ENDED_POLL_MS} ms.`);
  console.log(`Floor of the same run on the same servers: a JetStream publish (acked) to a durable pull consumer's delivery, and a PostgreSQL commit; 'floor' is their sum.`);
  console.log(`Load average at the end ${loadavg().map((l) => l.toFixed(1)).join(' ')} on ${cpus().length} CPUs.\n`);
  console.log(['measure'.padEnd(40), 'p50 ms'.padStart(8), 'p99 ms'.padStart(8), 'max ms'.padStart(8), '| ÷ floor p50'.padStart(13), 'p99'.padStart(7), '| ÷ JetStream p50'.padStart(17), 'p99'.padStart(7), '  target'].join(' '));
  let failed = false;
  const rows: Array<[string, Run, number | undefined]> = [
    ['raw PostgreSQL commit', raw.commit, undefined],
    ['raw JetStream publish -> consume', raw.jetstream, undefined],
    ['floor (commit + JetStream)', floorRun, undefined],
    ['approval 2xx -> GET /check allows', measured.access, TARGET_ACCESS_P99_MS],
    ['  of it: RequestApproved -> AccessGranted', measured.approvedToGranted, undefined],
    ['  of it: AccessGranted -> /check allows', measured.grantedToAllowed, undefined],
    ['expiresAt -> GET /check denies', measured.deny, TARGET_DENY_P99_MS],
    ['expiresAt -> grant revoked (GET /access)', measured.revoked, undefined],
    ['expiresAt -> request ended', measured.ended, undefined],
  ];
  for (const [name, runOfRow, target] of rows) {
    const p50 = percentile(runOfRow, 50);
    const p99 = percentile(runOfRow, 99);
    let verdict = '';
    if (target !== undefined) {
      const floorAbove = percentile(floorRun, 99) >= target;
      const ok = p99 < target;
      verdict = `  p99 < ${target} ms: ${ok ? 'pass' : floorAbove ? 'over (floor above target: see ratio)' : 'FAIL'}`;
      if (!ok && !floorAbove) failed = true;
    }
    console.log(
      [
        name.padEnd(40),
        p50.toFixed(1).padStart(8),
        p99.toFixed(1).padStart(8),
        Math.max(...runOfRow.latencies).toFixed(1).padStart(8),
        `| ${(p50 / percentile(floorRun, 50)).toFixed(2)}`.padStart(13),
        (p99 / percentile(floorRun, 99)).toFixed(2).padStart(7),
        `| ${(p50 / percentile(raw.jetstream, 50)).toFixed(2)}`.padStart(17),
        (p99 / percentile(raw.jetstream, 99)).toFixed(2).padStart(7),
        verdict,
      ].join(' '),
    );
  }
  const c = measured.concurrent;
  const exact = c.fulfilled === c.requests && c.grants === c.requests && c.duplicated === 0 && c.lost === 0;
  console.log(`\n${c.requests} requests in flight at once: ${c.fulfilled} fulfilled, ${c.grants} grants counted in GET /access, ${c.lost} lost, ${c.duplicated} duplicated (${c.seconds.toFixed(1)} s from the first submit to the last fulfilled); statuses ${JSON.stringify(c.statuses)}: ${exact ? 'pass' : 'FAIL'}`);
  if (!exact) failed = true;
  console.log(`(${((performance.now() - wallStart) / 1000).toFixed(1)} s)`);
  process.exitCode = failed ? 1 : 0;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
