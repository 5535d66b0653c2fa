/**
 * Gateway benchmark: what the PostgreSQL gateway costs a privileged session, and how soon a
 * revoke cuts one.
 *
 *   npm run bench:gateway                        (2000 round trips per kind, 20 revokes)
 *   npm run bench:gateway -- --trips 5000 --cuts 50
 *   npm run bench:gateway -- --plain            (clients reach the gateway without TLS: what TLS costs)
 *
 * The all-in-one runs over PostgreSQL and NATS (DATABASE_URL / NATS_URL, else a throwaway local
 * PostgreSQL and nats-server) with the gateway on, recording every statement; the target is a
 * database and login role of the bench's own on the same PostgreSQL server.
 *
 * Round trips, one client each, sequential, alternating blocks so both sides see the same load:
 * - simple: `SELECT 1` (a Query message);
 * - extended: `SELECT $1::int` with a parameter (Parse/Bind/Describe/Execute/Sync, as pg sends it);
 * each through the gateway (TLS from the client, statement recorded) beside a direct connection
 * to the same server in the same run (plain TCP: the local server has no TLS), and beside a bare
 * TCP relay in a Node process of its own (`net` sockets piped both ways, no parsing, no recording,
 * no TLS): the floor of any proxy hop through a Node process on this machine. Throughput per second and p50/p99 latency, and
 * the ratios gateway/direct and relay/direct. At the end every statement sent
 * through the gateway is checked to be in its recording.
 * Revoke-to-cut: an admin grant, a session through the gateway, then POST /access/{id}/revoke;
 * timed from sending the revoke to the client's error event. Beside it, the same run's
 * revoke POST round trip (its answer), the floor of any cut that follows it.
 * Targets (issue 17): gateway throughput at least 70% of direct, p99 within 2 ms of direct;
 * revoke-to-cut p99 under 1 s.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { Client } from 'pg';
import { removeNamespaceStreamsAt, startNats, randomNamespace } from '../libs/platform/testing/src/nats';
import { createTestDatabase, startPostgres } from '../libs/platform/testing/src/postgres';
import { freePort, startProcess } from '../test/support/processes';

function flag(name: string): string | undefined {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? process.argv[at + 1] : undefined;
}

const TRIPS = Number(flag('trips') ?? 2000);
const CUTS = Number(flag('cuts') ?? 20);
const BLOCKS = 4;
/** --plain: clients reach the gateway without TLS (CUSTOS_PG_GATEWAY_TLS_REQUIRED=false), to see what TLS costs. */
const PLAIN = process.argv.includes('--plain');
if (!Number.isInteger(TRIPS) || TRIPS < BLOCKS * 10) throw new Error(`--trips must be an integer of at least ${BLOCKS * 10}`);
if (!Number.isInteger(CUTS) || CUTS < 1) throw new Error('--cuts must be a positive integer');

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

interface Stats {
  perSec: number;
  p50: number;
  p99: number;
}

function statsOf(latencies: number[], totalMs: number): Stats {
  const sorted = [...latencies].sort((a, b) => a - b);
  return { perSec: (latencies.length / totalMs) * 1000, p50: percentile(sorted, 50), p99: percentile(sorted, 99) };
}

async function trips(client: Client, count: number, extended: boolean, into: { latencies: number[]; ms: number }): Promise<void> {
  const started = performance.now();
  for (let i = 0; i < count; i++) {
    const t0 = performance.now();
    if (extended) await client.query('SELECT $1::int AS n', [i]);
    else await client.query('SELECT 1');
    into.latencies.push(performance.now() - t0);
  }
  into.ms += performance.now() - started;
}

/** The bare relay's program, run as a process of its own as the gateway is (a hop between processes costs wake-ups an in-process one would hide). */
const RELAY_PROGRAM = `
const net = require('node:net');
const [host, port] = process.argv.slice(1);
const server = net.createServer((client) => {
  client.setNoDelay(true);
  const upstream = net.connect(Number(port), host);
  upstream.setNoDelay(true);
  client.pipe(upstream);
  upstream.pipe(client);
  client.on('error', () => upstream.destroy());
  upstream.on('error', () => client.destroy());
});
server.listen(0, '127.0.0.1', () => console.log(server.address().port));
`;

/** A bare TCP relay to the target in a process of its own: what one more hop through a Node process costs by itself. */
async function bareRelay(host: string, port: number): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, ['-e', RELAY_PROGRAM, host, String(port)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const listening = await new Promise<number>((resolve, reject) => {
    child.stdout!.once('data', (chunk: Buffer) => resolve(Number(chunk.toString().trim())));
    child.once('exit', () => reject(new Error('the relay exited')));
  });
  return { child, port: listening };
}

async function main(): Promise<void> {
  const run = Math.random().toString(36).slice(2, 10);
  const [pg, nats] = await Promise.all([startPostgres(), startNats()]);
  const store = await createTestDatabase('custos_gateway_bench');
  const targetDb = `gwb_target_${run}`;
  const targetRole = `gwb_up_${run}`;
  const admin = new Client({ connectionString: pg.adminUrl });
  await admin.connect();
  await admin.query(`CREATE ROLE ${targetRole} LOGIN PASSWORD 'gwb-${run}' NOSUPERUSER`);
  await admin.query(`CREATE DATABASE ${targetDb} OWNER ${targetRole}`);
  const targetUrl = new URL(pg.adminUrl);
  targetUrl.username = targetRole;
  targetUrl.password = `gwb-${run}`;
  targetUrl.pathname = `/${targetDb}`;
  const gatewayPort = await freePort();
  const namespace = randomNamespace();
  const custos = await startProcess('custos', 'apps/custos/src/main.ts', {
    DATABASE_URL: store.url,
    NATS_URL: nats.url,
    CUSTOS_NAMESPACE: namespace,
    CUSTOS_DEV_AUTH: 'true',
    CUSTOS_OIDC_ISSUER: undefined,
    CUSTOS_PG_GATEWAY_PORT: String(gatewayPort),
    CUSTOS_PG_GATEWAY_ID: `gw-bench-${run}`,
    CUSTOS_PG_GATEWAY_TARGETS: JSON.stringify({ 'pg-bench': targetUrl.toString() }),
    CUSTOS_PG_GATEWAY_TLS_REQUIRED: PLAIN ? 'false' : undefined,
  }, 150_000);
  const clients: Client[] = [];
  let relayProcess: ChildProcess | undefined;
  try {
    const call = async (method: string, path: string, token: string | undefined, body?: unknown) => {
      const response = await fetch(`${custos.url}${path}`, {
        method,
        headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await response.text();
      return { status: response.status, body: text ? JSON.parse(text) : undefined };
    };
    const tokenOf = async (sub: string, roles: string[] = []) => (await call('POST', '/dev/token', undefined, { sub, roles, amr: ['pwd', 'mfa'] })).body.access_token as string;
    const until = async <T>(probe: () => Promise<T>, accept: (v: T) => boolean, what: string): Promise<T> => {
      const deadline = Date.now() + 30_000;
      for (;;) {
        const value = await probe();
        if (accept(value)) return value;
        if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
        await sleep(20);
      }
    };
    const asAdmin = await tokenOf('gwb-admin', ['custos:admin']);
    const asHr = await tokenOf('gwb-hr', ['custos:hr']);
    const entitlement = `gwb:read-${run}`;
    await call('POST', '/catalog/entitlements', asAdmin, { key: entitlement, application: 'gwb', name: 'Bench', privileged: false, risk: 'low', target: 'pg-bench', targetRole: 'pg_read_all_data' });
    const hired = await call('POST', '/hr/events', asHr, {
      eventId: `gwb-${run}`,
      system: 'bench',
      type: 'joiner',
      employee: { employeeId: `E-gwb-${run}`, givenName: 'Ben', familyName: 'Ch', email: `ben-${run}@example.com`, department: 'Bench', employmentType: 'employee' },
    });
    const ben: string = hired.body.identityId;
    const asBen = await tokenOf(ben);
    const grant = () => until(() => call('POST', `/access/${ben}/grant`, asAdmin, { entitlement, reason: 'bench', duration: 'PT1H' }), (r) => r.status === 202, 'the grant');
    const sessionThroughGateway = async () => {
      const token = await until(() => call('POST', '/sessions/token', asBen, { target: 'pg-bench' }), (r) => r.status === 201, 'a session token');
      const c = new Client({ host: '127.0.0.1', port: gatewayPort, user: ben, database: 'pg-bench', password: token.body.token, ssl: PLAIN ? false : { rejectUnauthorized: false } });
      clients.push(c);
      await c.connect();
      return c;
    };
    await grant();
    const gateway = await sessionThroughGateway();
    const direct = new Client({ connectionString: targetUrl.toString() });
    clients.push(direct);
    await direct.connect();
    const relay = await bareRelay(targetUrl.hostname, Number(targetUrl.port || 5432));
    relayProcess = relay.child;
    const relayUrl = new URL(targetUrl.toString());
    relayUrl.hostname = '127.0.0.1';
    relayUrl.port = String(relay.port);
    const relayed = new Client({ connectionString: relayUrl.toString() });
    clients.push(relayed);
    await relayed.connect();

    // Warm-up of both paths, then alternating blocks.
    const warm = { latencies: [] as number[], ms: 0 };
    for (const c of [direct, relayed, gateway]) for (const extended of [false, true]) await trips(c, 200, extended, warm);
    const result: Record<string, { latencies: number[]; ms: number }> = {};
    for (const kind of ['simple', 'extended']) for (const side of ['direct', 'relay', 'gateway']) result[`${kind} ${side}`] = { latencies: [], ms: 0 };
    for (let block = 0; block < BLOCKS; block++) {
      for (const extended of [false, true]) {
        const kind = extended ? 'extended' : 'simple';
        const sides: Array<[string, Client]> = [['direct', direct], ['relay', relayed], ['gateway', gateway]];
        const order = block % 2 === 0 ? sides : [...sides].reverse();
        for (const [side, c] of order) await trips(c, TRIPS / BLOCKS, extended, result[`${kind} ${side}`]);
      }
    }
    await gateway.end();

    // Every statement sent through the gateway is in its recording.
    // The warm-up's 400 and the measured 2 x TRIPS: pg sends no statement of its own on connect.
    const expected = 2 * 200 + 2 * TRIPS;
    const sessions = await until(() => call('GET', `/sessions?identityId=${ben}&target=pg-bench`, asBen), (r) => r.body?.items?.some((s: { status: string }) => s.status === 'ended'), 'the session ended');
    const recorded = sessions.body.items.find((s: { status: string }) => s.status === 'ended').statements as number;

    // Revoke to cut.
    const cuts: number[] = [];
    const revokeAnswers: number[] = [];
    for (let i = 0; i < CUTS; i++) {
      await grant();
      const c = await sessionThroughGateway();
      await c.query('SELECT 1');
      const cut = new Promise<number>((resolve) => c.once('error', () => resolve(performance.now())));
      const t0 = performance.now();
      const revoked = await call('POST', `/access/${ben}/revoke`, asAdmin, { entitlement, reason: 'bench' });
      revokeAnswers.push(performance.now() - t0);
      if (revoked.status !== 202) throw new Error(`revoke: ${revoked.status} ${JSON.stringify(revoked.body)}`);
      cuts.push((await Promise.race([cut, sleep(30_000).then(() => NaN)])) - t0);
      if (Number.isNaN(cuts[cuts.length - 1])) throw new Error('a session was not cut within 30 s of its revoke');
      await c.end().catch(() => undefined);
    }

    const fmt = (n: number, d = 2) => n.toFixed(d).padStart(10);
    console.log(`\ngateway bench: ${TRIPS} round trips per kind and side (${BLOCKS} alternating blocks), ${CUTS} revokes, client to gateway ${PLAIN ? 'plain TCP' : 'TLS'}; ${cpus().length} cores, load ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
    console.log(`${'kind'.padEnd(10)}${'side'.padEnd(10)}${'trips/s'.padStart(10)}${'p50 ms'.padStart(10)}${'p99 ms'.padStart(10)}${'ratio /s'.padStart(10)}${'p99 +ms'.padStart(10)}`);
    const verdicts: string[] = [];
    for (const kind of ['simple', 'extended']) {
      const d = statsOf(result[`${kind} direct`].latencies, result[`${kind} direct`].ms);
      const r = statsOf(result[`${kind} relay`].latencies, result[`${kind} relay`].ms);
      const g = statsOf(result[`${kind} gateway`].latencies, result[`${kind} gateway`].ms);
      console.log(`${kind.padEnd(10)}${'direct'.padEnd(10)}${fmt(d.perSec, 0)}${fmt(d.p50)}${fmt(d.p99)}`);
      console.log(`${kind.padEnd(10)}${'relay'.padEnd(10)}${fmt(r.perSec, 0)}${fmt(r.p50)}${fmt(r.p99)}${fmt(r.perSec / d.perSec)}${fmt(r.p99 - d.p99)}`);
      console.log(`${kind.padEnd(10)}${'gateway'.padEnd(10)}${fmt(g.perSec, 0)}${fmt(g.p50)}${fmt(g.p99)}${fmt(g.perSec / d.perSec)}${fmt(g.p99 - d.p99)}`);
      verdicts.push(
        `${kind}: throughput ${(100 * g.perSec / d.perSec).toFixed(0)}% of direct (target >= 70%; the bare relay's ${(100 * r.perSec / d.perSec).toFixed(0)}%, the gateway ${(100 * g.perSec / r.perSec).toFixed(0)}% of the relay), p99 +${(g.p99 - d.p99).toFixed(2)} ms (target <= 2 ms)`,
      );
    }
    const cutSorted = [...cuts].sort((a, b) => a - b);
    const answerSorted = [...revokeAnswers].sort((a, b) => a - b);
    console.log(`revoke-to-cut: p50 ${percentile(cutSorted, 50).toFixed(1)} ms, p99 ${percentile(cutSorted, 99).toFixed(1)} ms (target p99 < 1000 ms); the revoke POST's own answer p50 ${percentile(answerSorted, 50).toFixed(1)} ms, p99 ${percentile(answerSorted, 99).toFixed(1)} ms (ratio p50 ${(percentile(cutSorted, 50) / percentile(answerSorted, 50)).toFixed(2)})`);
    console.log(`recording: ${recorded} of ${expected} statements sent through the gateway recorded`);
    for (const v of verdicts) console.log(v);
    if (recorded !== expected) throw new Error(`the recording has ${recorded} statements, ${expected} were sent`);
  } finally {
    await Promise.all(clients.map((c) => c.end().catch(() => undefined)));
    relayProcess?.kill();
    await custos.stop();
    await removeNamespaceStreamsAt(nats.url, namespace).catch(() => undefined);
    await store.drop();
    await admin.query(`DROP DATABASE IF EXISTS ${targetDb} WITH (FORCE)`);
    await admin.query(`DROP ROLE IF EXISTS ${targetRole}`);
    await admin.end();
    await nats.stop();
    await pg.stop();
  }
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
