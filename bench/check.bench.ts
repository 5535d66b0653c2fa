/**
 * Check benchmark: "may identity X use entitlement Y now?" answered by Custos and, side by
 * side in the same run, by the Cerbos policy decision point.
 *
 *   npm run bench:check                       (100,000 identities x 10 grants)
 *   npm run bench:check -- --identities 10000 --seconds 2     (a quick run)
 *   npm run bench:check -- --lean-edge        (adds a diagnostic: the same view behind plain node:http
 *                                             and plain Fastify instead of NestJS, support/lean-edge.ts)
 *   npm run bench:check -- --versus ../old    (adds another build of Custos, a checkout with its own
 *                                             node_modules, answering the same checks in rounds
 *                                             alternating with this one: before/after in one run)
 *
 * Data: 10 AccessGranted events per identity on its `access-{id}` stream, plus AccessTerminated
 * for about 3% of them (see support/check-data.ts), appended through SqlEventStore.append into
 * a fresh PostgreSQL database (DATABASE_URL, or a throwaway local cluster).
 *
 * Measured: the rebuild of the access view from the store and the heap it retains (in this
 * process, after a forced GC); in-process decisions/s; then the entitlement service started as
 * its own process (apps/entitlement-service, PostgreSQL + NATS, bearer tokens from a test OIDC
 * issuer) answering GET /check over HTTP and `rpc.entitlement.check` over NATS, 16 concurrent
 * closed-loop clients each. Cerbos answers the same checks over POST /api/check/resources with
 * an equivalent policy (support/cerbos.ts says exactly what it is given), driven by the same
 * load generator with the same settings; before any timing, Custos (HTTP and NATS), Cerbos and
 * the data set's own expectation must agree on a sample of checks. The NATS baseline is a raw
 * core-NATS echo responder in its own process, driven by the same clients. Custos and its
 * comparison alternate in short rounds so that drift on a shared machine hits both alike.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { CHECK_RPC, type CheckResult } from '../libs/entitlement/contracts/src/rpc';
import { accessStreamId } from '../libs/entitlement/contracts/src/stream-ids';
import { ACCESS_VIEW_BATCH_SIZE, AccessView } from '../libs/entitlement/application/src/read-models/access/access-view';
import { START } from '../libs/platform/event-store/src/event';
import { createPgDatabase } from '../libs/platform/event-store/src/pg-database';
import { SqlEventStore } from '../libs/platform/event-store/src/sql-event-store';
import { NatsBus } from '../libs/platform/messaging/src/nats-bus';
import { randomNamespace, removeNamespaceStreamsAt, startNats } from '../libs/platform/testing/src/nats';
import { startOidcIssuer } from '../libs/platform/testing/src/oidc-issuer';
import { createTestDatabase, startPostgres } from '../libs/platform/testing/src/postgres';
import { startProcess } from '../test/support/processes';
import { accessEventsOf, checkQueries, expectedAllowed, expectedReason, GRANTS_PER_IDENTITY, identityAt, type CheckQuery } from './support/check-data';
import { cerbosAllowed, cerbosCheckBody, startCerbos } from './support/cerbos';
import { alternating, closedLoop, generatorCpu, getRequest, HttpConnection, percentile, perSecond, postJsonRequest, type Run } from './support/load';
import { startNatsEcho } from './support/nats-echo';

const CLIENTS = 16;
const SEED_WRITERS = 12;
const AGREEMENT_SAMPLE = 2_000;
const REQUEST_POOL = 20_000;
const ROUNDS = 3;

/** The value of `--name <text>`, or undefined. */
function textOption(name: string): string | undefined {
  const at = process.argv.indexOf(`--${name}`);
  if (at < 0) return undefined;
  const value = process.argv[at + 1];
  if (!value || value.startsWith('--')) throw new Error(`--${name} needs a value`);
  return value;
}

/**
 * `--versus <dir>`: another checkout of Custos (an older commit in a git worktree, `npm ci` run in
 * it), whose entitlement service answers the same checks from its own copy of the data.
 */
function versusCheckout(): string | undefined {
  const dir = textOption('versus');
  if (dir === undefined) return undefined;
  const root = resolve(dir);
  for (const needed of ['apps/entitlement-service/src/main.ts', 'node_modules/@swc-node/register']) {
    if (!existsSync(join(root, needed))) throw new Error(`--versus ${dir}: no ${needed} there (a Custos checkout with npm ci run in it)`);
  }
  return root;
}

/** That checkout's own event store code, so that its copy of the data is written in its own schema. */
function storeCodeOf(root: string): { createPgDatabase: typeof createPgDatabase; SqlEventStore: typeof SqlEventStore } {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const pg = require(join(root, 'libs/platform/event-store/src/pg-database')) as { createPgDatabase: typeof createPgDatabase };
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const sql = require(join(root, 'libs/platform/event-store/src/sql-event-store')) as { SqlEventStore: typeof SqlEventStore };
  return { createPgDatabase: pg.createPgDatabase, SqlEventStore: sql.SqlEventStore };
}

function option(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  if (at < 0) return fallback;
  const value = Number(process.argv[at + 1]);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} needs a positive number`);
  return value;
}

/** A callable GC, for heap figures that count what is retained rather than garbage not yet collected. */
function collector(): () => void {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  return () => {
    gc();
    gc();
  };
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const mb = (bytes: number) => `${fmt(bytes / 1024 / 1024)} MB`;
const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

async function main(): Promise<void> {
  const wallStart = performance.now();
  const identities = Math.floor(option('identities', 100_000));
  const roundMs = option('seconds', 5) * 1000;
  const versus = versusCheckout();
  const gc = collector();
  const cleanup: Array<() => Promise<unknown>> = [];
  const log = (line: string) => console.log(`[${secs(performance.now() - wallStart).padStart(7)}] ${line}`);

  try {
    const server = await startPostgres();
    cleanup.unshift(() => server.stop());
    const database = await createTestDatabase('custos_check_bench');
    cleanup.unshift(() => database.drop());
    const db = createPgDatabase(database.url, { max: SEED_WRITERS + 4, applicationName: 'custos-check-bench' });
    cleanup.unshift(() => db.close());
    const store = await SqlEventStore.open(db, { context: 'entitlement', schema: 'entitlement' });
    // The other build's copy of the same events, written by its own store code.
    let versusData: { url: string; store: SqlEventStore; db: ReturnType<typeof createPgDatabase> } | undefined;
    if (versus) {
      const code = storeCodeOf(versus);
      const copy = await createTestDatabase('custos_check_bench_versus');
      cleanup.unshift(() => copy.drop());
      const copyDb = code.createPgDatabase(copy.url, { max: SEED_WRITERS + 4, applicationName: 'custos-check-bench-versus' });
      cleanup.unshift(() => copyDb.close());
      versusData = { url: copy.url, db: copyDb, store: await code.SqlEventStore.open(copyDb, { context: 'entitlement', schema: 'entitlement' }) };
    }
    const { rows: settings } = await db.query<{ version: string }>(`SELECT split_part(version(), ' ', 2) AS version`);

    // --- seed ---------------------------------------------------------------------------
    log(`seeding ${fmt(identities)} identities x ${GRANTS_PER_IDENTITY} grants through SqlEventStore.append (${SEED_WRITERS} writers)`);
    const seedStart = performance.now();
    let next = 0;
    let events = 0;
    let terminated = 0;
    let pastEnd = 0;
    const seededAt = Date.now();
    await Promise.all(
      Array.from({ length: SEED_WRITERS }, async () => {
        for (let i = next++; i < identities; i = next++) {
          const identity = identityAt(i);
          const stream = accessEventsOf(identity);
          await store.append(accessStreamId(identity.id), stream, 'no-stream');
          if (versusData) await versusData.store.append(accessStreamId(identity.id), stream, 'no-stream');
          events += stream.length;
          if (identity.terminated) terminated++;
          pastEnd += identity.grants.filter((g) => g.expiresAt !== undefined && Date.parse(g.expiresAt) <= seededAt).length;
          if ((i + 1) % Math.max(1, Math.floor(identities / 5)) === 0) log(`  ${fmt(i + 1)} identities`);
        }
      }),
    );
    const seedMs = performance.now() - seedStart;
    await db.query('VACUUM ANALYZE entitlement.events');
    if (versusData) await versusData.db.query('VACUUM ANALYZE entitlement.events');
    log(`seeded ${fmt(events)} events in ${secs(seedMs)}`);

    // --- rebuild and memory, in this process -----------------------------------------------
    gc();
    const before = process.memoryUsage();
    const viewErrors: unknown[] = [];
    let view: AccessView | undefined = new AccessView(store, (error) => viewErrors.push(error));
    const rebuildStart = performance.now();
    await view.start();
    const rebuildMs = performance.now() - rebuildStart;
    await view.stop();
    gc();
    const after = process.memoryUsage();
    const retainedHeap = after.heapUsed - before.heapUsed;
    if (viewErrors.length > 0) throw viewErrors[0];
    if (view.size !== identities || view.grantCount() !== identities * GRANTS_PER_IDENTITY) {
      throw new Error(`the view holds ${view.size} identities and ${view.grantCount()} grants, expected ${identities} and ${identities * GRANTS_PER_IDENTITY}`);
    }
    // The store's share of a rebuild: readAll over every event in the view's batch size, nothing applied.
    const readStart = performance.now();
    for (let checkpoint = START; ; ) {
      const page = await store.readAll(checkpoint, ACCESS_VIEW_BATCH_SIZE);
      if (page.events.length === 0) break;
      checkpoint = page.checkpoint;
    }
    const readMs = performance.now() - readStart;
    log(`rebuilt the access view in ${secs(rebuildMs)} (reading alone, after it: ${secs(readMs)}); retained heap ${mb(retainedHeap)}, RSS ${mb(after.rss)}`);

    // --- in-process decisions ------------------------------------------------------------
    // Through JSON, so the strings are flat as a request parser hands them over (the generator's
    // template strings are V8 cons strings, which a Map lookup would flatten on every call).
    const queries = JSON.parse(JSON.stringify(checkQueries(REQUEST_POOL * 10, identities, 7))) as CheckQuery[];
    const sampleNow = Date.now();
    for (const q of queries.slice(0, 10_000)) {
      const expected = expectedAllowed(q.index < 0 ? undefined : identityAt(q.index), q.entitlement, sampleNow);
      if (view.check(q.identityId, q.entitlement, new Date(sampleNow)).allowed !== expected) {
        throw new Error(`in-process check disagrees with the data set for ${q.identityId} / ${q.entitlement}`);
      }
    }
    let decisions = 0;
    let allowed = 0;
    const decideStart = performance.now();
    const decideUntil = decideStart + Math.min(roundMs, 3_000);
    while (performance.now() < decideUntil) {
      for (let k = 0; k < 10_000; k++) {
        const q = queries[(decisions + k) % queries.length];
        if (view.check(q.identityId, q.entitlement, new Date()).allowed) allowed++;
      }
      decisions += 10_000;
    }
    const decisionsPerSecond = (decisions * 1000) / (performance.now() - decideStart);
    log(`in-process: ${fmt(decisionsPerSecond)} decisions/s (${((allowed / decisions) * 100).toFixed(0)}% allowed)`);
    view = undefined;
    gc();

    // --- the service, Cerbos and the echo ------------------------------------------------------
    const nats = await startNats();
    cleanup.unshift(() => nats.stop());
    const namespace = randomNamespace();
    cleanup.unshift(() => removeNamespaceStreamsAt(nats.url, namespace));
    const issuer = await startOidcIssuer();
    cleanup.unshift(() => issuer.stop());
    const token = await issuer.token({ sub: 'bench-policy-enforcement-point', roles: ['custos:checker'] });
    // The events were written straight into the store, as if published long ago: the relay
    // starts at the head instead of publishing a million events while the checks are measured.
    const head = await store.head();
    if (head) {
      await db.query(`INSERT INTO entitlement.checkpoints (name, tx_id, position) VALUES ($1, $2::xid8, $3::bigint)`, [`relay:nats:${namespace}`, head.tx, head.pos]);
    }
    const serviceStart = performance.now();
    const service = await startProcess(
      'entitlement-service',
      'apps/entitlement-service/src/main.ts',
      { DATABASE_URL: database.url, NATS_URL: nats.url, CUSTOS_NAMESPACE: namespace, CUSTOS_OIDC_ISSUER: issuer.issuer, CUSTOS_DEV_AUTH: undefined },
      300_000,
    );
    cleanup.unshift(() => service.stop());
    const serviceReadyMs = performance.now() - serviceStart;
    const serviceMemory = async () => {
      const text = await (await fetch(`${service.url}/metrics`)).text();
      const metric = (name: string) => Number(new RegExp(`^${name} (\\S+)`, 'm').exec(text)?.[1] ?? NaN);
      return {
        rss: metric('process_resident_memory_bytes'),
        heapUsed: metric('nodejs_heap_size_used_bytes'),
        heapTotal: metric('nodejs_heap_size_total_bytes'),
        external: metric('nodejs_external_memory_bytes'),
      };
    };
    const memoryText = (m: Awaited<ReturnType<typeof serviceMemory>>) =>
      `RSS ${mb(m.rss)} (V8 heap ${mb(m.heapTotal)} committed, ${mb(m.heapUsed)} used, garbage included; external ${mb(m.external)})`;
    let versusService: Awaited<ReturnType<typeof startProcess>> | undefined;
    if (versus && versusData) {
      const versusNamespace = randomNamespace();
      cleanup.unshift(() => removeNamespaceStreamsAt(nats.url, versusNamespace));
      const copyHead = await versusData.store.head();
      if (copyHead) {
        await versusData.db.query(`INSERT INTO entitlement.checkpoints (name, tx_id, position) VALUES ($1, $2::xid8, $3::bigint)`, [
          `relay:nats:${versusNamespace}`,
          copyHead.tx,
          copyHead.pos,
        ]);
      }
      versusService = await startProcess(
        'entitlement-service (versus)',
        'apps/entitlement-service/src/main.ts',
        { DATABASE_URL: versusData.url, NATS_URL: nats.url, CUSTOS_NAMESPACE: versusNamespace, CUSTOS_OIDC_ISSUER: issuer.issuer, CUSTOS_DEV_AUTH: undefined },
        300_000,
        versus,
      );
      cleanup.unshift(() => versusService?.stop() ?? Promise.resolve());
      log(`the versus build (${versus}) is healthy too`);
    }
    const healthyMemory = await serviceMemory();
    log(`entitlement service healthy after ${secs(serviceReadyMs)} (replays the store into its catalog and access views); ${memoryText(healthyMemory)}`);

    const cerbos = await startCerbos();
    cleanup.unshift(() => cerbos.stop());
    const echoSubject = 'rpc.bench.echo';
    const echo = await startNatsEcho(nats.url, `${namespace}.${echoSubject}`);
    cleanup.unshift(() => echo.stop());
    const buses = await Promise.all(Array.from({ length: CLIENTS }, (_, c) => NatsBus.connect({ servers: nats.url, namespace, name: `bench-client-${c}` })));
    cleanup.unshift(() => Promise.all(buses.map((b) => b.close())));
    log(`Cerbos ${cerbos.version} and the NATS echo are up; ${CLIENTS} NATS clients connected`);

    // Requests, encoded once: the same checks for Custos and for Cerbos.
    const pool = queries.slice(0, REQUEST_POOL);
    const auth = { Authorization: `Bearer ${token}` };
    const checkPath = (q: CheckQuery) => `/check?identityId=${encodeURIComponent(q.identityId)}&entitlement=${encodeURIComponent(q.entitlement)}`;
    const custosRequests = pool.map((q) => getRequest(service.url, checkPath(q), auth));
    const cerbosRequests = pool.map((q) => postJsonRequest(cerbos.url, '/api/check/resources', cerbosCheckBody(q.index < 0 ? undefined : identityAt(q.index), q.identityId, q.entitlement)));

    // --- agreement -------------------------------------------------------------------------
    {
      const custosHttp = await HttpConnection.open(service.url);
      const cerbosHttp = await HttpConnection.open(cerbos.url);
      const reasons: Record<string, number> = {};
      for (let k = 0; k < AGREEMENT_SAMPLE; k++) {
        const q = pool[k];
        // An id with no access stream is one the entitlement context never heard of: the check API says so.
        const expected = q.index < 0 ? 'unknown-identity' : expectedReason(identityAt(q.index), q.entitlement, Date.now());
        const http = await custosHttp.send(custosRequests[k]);
        if (http.status !== 200) throw new Error(`GET /check answered ${http.status}: ${http.body}`);
        const viaHttp = JSON.parse(http.body) as { allowed: boolean; reason: string };
        const viaNats = await buses[k % CLIENTS].request<CheckResult>(CHECK_RPC, { identityId: q.identityId, entitlement: q.entitlement });
        const cerbosAnswer = await cerbosHttp.send(cerbosRequests[k]);
        if (cerbosAnswer.status !== 200) throw new Error(`Cerbos answered ${cerbosAnswer.status}: ${cerbosAnswer.body}`);
        const viaCerbos = cerbosAllowed(cerbosAnswer.body);
        const allowed = expected === 'granted';
        if (viaHttp.reason !== expected || viaHttp.allowed !== allowed || viaNats.reason !== expected || viaNats.allowed !== allowed || viaCerbos !== allowed) {
          throw new Error(
            `disagreement on ${q.identityId} / ${q.entitlement}: expected ${expected}, HTTP ${viaHttp.allowed} (${viaHttp.reason}), NATS ${viaNats.allowed} (${viaNats.reason}), Cerbos ${viaCerbos}`,
          );
        }
        reasons[expected] = (reasons[expected] ?? 0) + 1;
      }
      custosHttp.close();
      cerbosHttp.close();
      const mix = Object.entries(reasons)
        .map(([reason, n]) => `${n} ${reason}`)
        .join(', ');
      log(`agreement: Custos HTTP, Custos NATS, Cerbos and the data set agree on ${fmt(AGREEMENT_SAMPLE)} checks (${mix})`);
    }

    // --- HTTP: Custos and Cerbos in alternating rounds ---------------------------------------------
    const httpRound = async (url: string, requests: Buffer[], ms: number): Promise<Run> => {
      const connections = await Promise.all(Array.from({ length: CLIENTS }, () => HttpConnection.open(url)));
      try {
        return await closedLoop(CLIENTS, ms, async (c, i) => {
          const answer = await connections[c].send(requests[(c * 7919 + i) % requests.length]);
          if (answer.status !== 200) throw new Error(`${url} answered ${answer.status}: ${answer.body.slice(0, 300)}`);
        });
      } finally {
        for (const connection of connections) connection.close();
      }
    };
    // An HTTP endpoint's checks in rounds alternating with Cerbos answering the same checks.
    const versusCerbos = (url: string, requests: typeof cerbosRequests) =>
      alternating(
        (ms) => httpRound(url, requests, ms),
        (ms) => httpRound(cerbos.url, cerbosRequests, ms),
        ROUNDS,
        roundMs,
        2_000,
      );
    const [custosHttp, cerbosHttp] = await versusCerbos(service.url, custosRequests);
    log(`HTTP: Custos ${fmt(perSecond(custosHttp))}/s, Cerbos ${fmt(perSecond(cerbosHttp))}/s`);

    // --- HTTP: this build and the versus build in alternating rounds ----------------------------------
    let versusHttp: { custos: Run; other: Run } | undefined;
    if (versusService) {
      const versusUrl = versusService.url;
      const versusRequests = pool.map((q) => getRequest(versusUrl, checkPath(q), auth));
      const probe = await HttpConnection.open(versusUrl);
      for (let k = 0; k < 200; k++) {
        const answer = await probe.send(versusRequests[k]);
        const expected = pool[k].index < 0 ? 'unknown-identity' : expectedReason(identityAt(pool[k].index), pool[k].entitlement, Date.now());
        if (answer.status !== 200 || (JSON.parse(answer.body) as { reason: string }).reason !== expected) {
          throw new Error(`the versus build answered ${answer.status} ${answer.body}, expected ${expected}`);
        }
      }
      probe.close();
      const [custos, other] = await alternating(
        (ms) => httpRound(service.url, custosRequests, ms),
        (ms) => httpRound(versusUrl, versusRequests, ms),
        ROUNDS,
        roundMs,
        2_000,
      );
      versusHttp = { custos, other };
      log(`HTTP: this build ${fmt(perSecond(custos))}/s, the versus build ${fmt(perSecond(other))}/s`);
      await versusService.stop();
    }

    // --- NATS: the check RPC and the raw echo in alternating rounds ----------------------------------
    // Twice: 16 clients with a connection each (16 services asking), and 16 requests in flight
    // on one shared connection (one busy service asking; the client batches its writes).
    const payloads = pool.map((q) => ({ identityId: q.identityId, entitlement: q.entitlement }));
    const natsRound = (subject: string, ms: number, shared: boolean) =>
      closedLoop(CLIENTS, ms, async (c, i) => {
        await buses[shared ? 0 : c].request(subject, payloads[(c * 7919 + i) % payloads.length]);
      });
    const natsRounds = async (shared: boolean) => {
      const [custos, echo] = await alternating(
        (ms) => natsRound(CHECK_RPC, ms, shared),
        (ms) => natsRound(echoSubject, ms, shared),
        ROUNDS,
        roundMs,
        2_000,
      );
      return { custos, echo };
    };
    const natsApart = await natsRounds(false);
    const natsShared = await natsRounds(true);
    const custosNats = natsApart.custos;
    const echoNats = natsApart.echo;
    log(`NATS: Custos ${fmt(perSecond(custosNats))}/s, raw echo ${fmt(perSecond(echoNats))}/s (one connection each); ${fmt(perSecond(natsShared.custos))}/s and ${fmt(perSecond(natsShared.echo))}/s (one shared connection)`);
    const loadedMemory = await serviceMemory();
    const serviceRssAfter = loadedMemory.rss;

    // --- diagnostic: the same view behind plain node:http (--lean-edge) ------------------------------
    const lean: Array<{ framework: string; custos: Run; cerbos: Run }> = [];
    if (process.argv.includes('--lean-edge')) {
      await service.stop();
      for (const framework of ['node:http', 'fastify']) {
        const edge = await startProcess(
          `lean edge (${framework})`,
          'bench/support/lean-edge.ts',
          { DATABASE_URL: database.url, CUSTOS_OIDC_ISSUER: issuer.issuer, EDGE_FRAMEWORK: framework === 'fastify' ? 'fastify' : 'node' },
          300_000,
        );
        try {
          const leanRequests = pool.map((q) => getRequest(edge.url, checkPath(q), auth));
          const probe = await HttpConnection.open(edge.url);
          for (let k = 0; k < 200; k++) {
            const answer = await probe.send(leanRequests[k]);
            const expected = expectedReason(pool[k].index < 0 ? undefined : identityAt(pool[k].index), pool[k].entitlement, Date.now());
            if (answer.status !== 200 || (JSON.parse(answer.body) as { reason: string }).reason !== expected) {
              throw new Error(`lean edge answered ${answer.status} ${answer.body}, expected ${expected}`);
            }
          }
          probe.close();
          const [custos, cerbosRun] = await versusCerbos(edge.url, leanRequests);
          lean.push({ framework, custos, cerbos: cerbosRun });
          log(`lean edge, ${framework} (diagnostic): ${fmt(perSecond(lean[lean.length - 1].custos))}/s, Cerbos ${fmt(perSecond(lean[lean.length - 1].cerbos))}/s`);
        } finally {
          await edge.stop();
        }
      }
    }

    // --- report ----------------------------------------------------------------------------
    const grants = identities * GRANTS_PER_IDENTITY;
    console.log(
      `\n${fmt(identities)} identities, ${fmt(grants)} grants (${fmt(terminated)} identities terminated, ${fmt(pastEnd)} grants past their end, not yet revoked), ${fmt(events)} events`,
    );
    console.log(`PostgreSQL ${settings[0].version}; Cerbos ${cerbos.version}; ${CLIENTS} concurrent clients; ${ROUNDS} alternating rounds of ${secs(roundMs)}`);
    console.log(`seeding: ${secs(seedMs)} (${fmt((events * 1000) / seedMs)} events/s, ${SEED_WRITERS} parallel appends of one identity's stream each)\n`);

    type Row = { measurement: string; custos: string; other: string; ratio: string; target: string; ok: boolean | null; cpu?: string };
    const rows: Row[] = [];
    const rateRow = (measurement: string, ours: Run, theirs: Run, target: number | null): Row => {
      const ratio = perSecond(ours) / perSecond(theirs);
      return {
        measurement,
        custos: fmt(perSecond(ours)),
        other: fmt(perSecond(theirs)),
        ratio: ratio.toFixed(2),
        target: target === null ? '-' : `>= ${target}`,
        ok: target === null ? null : ratio >= target,
        cpu: `${generatorCpu(ours).toFixed(0)}% / ${generatorCpu(theirs).toFixed(0)}%`,
      };
    };
    const latencyRow = (measurement: string, ours: Run, theirs: Run, p: number, target: { below?: number; belowOther?: boolean }): Row => {
      const a = percentile(ours, p);
      const b = percentile(theirs, p);
      const ok = target.below !== undefined ? a < target.below : target.belowOther ? a < b : null;
      return {
        measurement,
        custos: a.toFixed(2),
        other: b.toFixed(2),
        ratio: (a / b).toFixed(2),
        target: target.below !== undefined ? `< ${target.below}` : target.belowOther ? '< other' : '-',
        ok,
      };
    };
    rows.push(rateRow('HTTP checks/s (other: Cerbos)', custosHttp, cerbosHttp, 2.0));
    rows.push(latencyRow('HTTP p50 ms (other: Cerbos)', custosHttp, cerbosHttp, 50, {}));
    rows.push(latencyRow('HTTP p99 ms (other: Cerbos)', custosHttp, cerbosHttp, 99, { belowOther: true }));
    if (versusHttp) {
      rows.push(rateRow('HTTP checks/s (other: versus build)', versusHttp.custos, versusHttp.other, 1.0));
      rows.push(latencyRow('HTTP p50 ms (other: versus build)', versusHttp.custos, versusHttp.other, 50, {}));
      rows.push(latencyRow('HTTP p99 ms (other: versus build)', versusHttp.custos, versusHttp.other, 99, {}));
    }
    rows.push(rateRow('NATS checks/s (other: raw echo)', custosNats, echoNats, null));
    rows.push(latencyRow('NATS p50 ms (other: raw echo)', custosNats, echoNats, 50, {}));
    rows.push(latencyRow('NATS p99 ms (other: raw echo)', custosNats, echoNats, 99, { below: 5 }));
    rows.push(rateRow('NATS 1 shared conn checks/s', natsShared.custos, natsShared.echo, null));
    rows.push(latencyRow('NATS 1 shared conn p50 ms', natsShared.custos, natsShared.echo, 50, {}));
    rows.push(latencyRow('NATS 1 shared conn p99 ms', natsShared.custos, natsShared.echo, 99, { below: 5 }));
    for (const edge of lean) {
      rows.push(rateRow(`diag. ${edge.framework} edge checks/s`, edge.custos, edge.cerbos, null));
      rows.push(latencyRow(`diag. ${edge.framework} edge p99 ms`, edge.custos, edge.cerbos, 99, {}));
    }
    const single = (measurement: string, value: string, target: string, ok: boolean | null): Row => ({ measurement, custos: value, other: '-', ratio: '-', target, ok });
    rows.push(single('in-process decisions/s', fmt(decisionsPerSecond), '-', null));
    rows.push(single('view rebuild from the store, s', (rebuildMs / 1000).toFixed(1), '< 60', rebuildMs < 60_000));
    rows.push(single('view retained heap, MB', fmt(retainedHeap / 1024 / 1024), '< 1536', retainedHeap < 1.5 * 1024 ** 3));
    rows.push(single('service RSS after the load, MB', fmt(serviceRssAfter / 1024 / 1024), '< 1536', serviceRssAfter < 1.5 * 1024 ** 3));
    rows.push(single('service start to healthy, s', (serviceReadyMs / 1000).toFixed(1), '-', null));

    console.log(
      ['measurement'.padEnd(34), 'custos'.padStart(11), 'other'.padStart(11), 'ratio'.padStart(7), 'target'.padStart(9), ' result', '  load generator CPU (custos / other)'].join(' '),
    );
    let failed = false;
    for (const row of rows) {
      failed ||= row.ok === false;
      console.log(
        [
          row.measurement.padEnd(34),
          row.custos.padStart(11),
          row.other.padStart(11),
          row.ratio.padStart(7),
          row.target.padStart(9),
          (row.ok === null ? '-' : row.ok ? 'pass' : 'FAIL').padStart(7),
          row.cpu ? `  ${row.cpu}` : '',
        ].join(' '),
      );
    }
    console.log(
      `\nrebuild: ${fmt((events * 1000) / rebuildMs)} events/s, of which reading the store (pg rows, JSON parse of data, envelope) takes ${secs(readMs)} when done alone, batch ${fmt(ACCESS_VIEW_BATCH_SIZE)}`,
    );
    console.log(`in-process RSS after the rebuild ${mb(after.rss)}`);
    console.log(`service when healthy: ${memoryText(healthyMemory)}`);
    console.log(`service after the load: ${memoryText(loadedMemory)}`);
    console.log(`(${secs(performance.now() - wallStart)})`);
    process.exitCode = failed ? 1 : 0;
  } finally {
    for (const step of cleanup) await step().catch((error: unknown) => console.error('cleanup:', error));
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
