import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { createTestDatabase, eventually, randomNamespace, removeNamespaceStreamsAt, startNats, startPostgres, type TestDatabase } from '@custos/platform/testing';
import { CustosClient } from './support/client';
import { EntitlementApi } from './support/entitlement-api';
import { freePort, startProcess, type RunningProcess } from './support/processes';

/**
 * The PostgreSQL gateway end to end, in the all-in-one over real PostgreSQL (as the store and as
 * the target: a database and login role of the test's own) and NATS. A just-in-time request
 * approved, `pg` through the gateway with a session token, simple and extended statements
 * recorded in order with the request behind them; a replayed token refused and audited; the
 * grant's expiry, a revoke and a leaver cut open sessions with a PostgreSQL error saying why; a
 * security approver watches (SSE) and terminates; an unknown protocol message closes the
 * session; the gateway killed mid-session comes back and marks the session incomplete with
 * every recorded statement kept.
 */
describe('gateway sessions: recorded, cut when access ends, terminated, crash-safe', () => {
  let db: TestDatabase;
  let adminUrl: string;
  let natsUrl: string;
  let custos: RunningProcess;
  let env: Record<string, string | undefined>;
  let client: CustosClient;
  let api: EntitlementApi;
  let gatewayPort: number;
  const run = randomUUID().slice(0, 8);
  const target = `pg-${run}`;
  const targetDb = `gw_target_${run}`;
  const targetRole = `gw_up_${run}`;
  const entitlement = `gw:read-${run}`;
  const clients: Client[] = [];
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  const start = async () => {
    custos = await startProcess('custos', 'apps/custos/src/main.ts', env, 150_000);
    client = new CustosClient(
      () => custos.url,
      async (claims) => {
        const response = await fetch(`${custos.url}/dev/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(claims) });
        return ((await response.json()) as { access_token: string }).access_token;
      },
    );
  };
  const must = async (method: string, path: string, token: string, body?: unknown) => {
    const r = await client.call(method, path, { token, body });
    if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${r.text}`);
    return r.body;
  };
  const admin = () => client.token(`gw-admin-${run}`, ['custos:admin'], ['pwd', 'mfa']);
  const pgThrough = (user: string, password: string) => {
    const c = new Client({ host: '127.0.0.1', port: gatewayPort, user, database: target, password, ssl: { rejectUnauthorized: false } });
    clients.push(c);
    return c;
  };
  /** Signs in through the gateway with a fresh session token; the client records its own errors. */
  const connect = async (identityId: string) => {
    const bearer = await client.token(identityId);
    const token = await eventually(() => client.call('POST', '/sessions/token', { token: bearer, body: { target } }), {
      accept: (r) => r.status === 201,
      what: 'a session token (the gateway learns the target link and the grant from events)',
      timeoutMs: 30_000,
      intervalMs: 100,
    });
    const c = pgThrough(identityId, token.body.token);
    const errors: Array<{ code?: string; message: string }> = [];
    c.on('error', (e: Error & { code?: string }) => errors.push({ code: e.code, message: e.message }));
    await c.connect();
    const { rows } = await c.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    return { c, errors, token: token.body.token as string, pid: rows[0].pid };
  };
  const sessionOf = async (identityId: string, accept: (s: any) => boolean, what: string) => {
    const auditor = await client.token(`gw-auditor-${run}`, ['custos:auditor']);
    const r = await eventually(() => client.call('GET', `/sessions?identityId=${identityId}&target=${target}`, { token: auditor }), {
      accept: (x) => x.status === 200 && x.body.items.some(accept),
      what,
      timeoutMs: 30_000,
      intervalMs: 100,
    });
    return r.body.items.find(accept);
  };
  const auditor = () => client.token(`gw-auditor-${run}`, ['custos:auditor']);
  const recording = async (sessionId: string) => (await client.call('GET', `/sessions/${sessionId}`, { token: await client.token(`gw-auditor-${run}`, ['custos:auditor']) })).body;
  const statementsOf = (rec: any) => rec.events.filter((e: any) => e.type === 'StatementsRecorded').flatMap((e: any) => e.data.statements);
  const approvedJit = async (ada: string, mia: string, duration: string) => {
    const asBeneficiary = await client.token(ada);
    // The request context learns a new hire from the identity context's events: ask until it knows them.
    const submitted = await eventually(() => client.call('POST', '/requests', { token: asBeneficiary, body: { entitlement, justification: 'gateway e2e', duration } }), {
      accept: (r) => r.status === 201,
      what: 'the request context to know the beneficiary and the manager',
      timeoutMs: 30_000,
      intervalMs: 100,
    });
    const request = submitted.body;
    await must('POST', `/requests/${request.requestId}/approve`, await client.token(mia), { comment: 'ok' });
    const asAda = await client.token(ada);
    await eventually(() => client.call('GET', `/requests/${request.requestId}`, { token: asAda }), {
      accept: (r) => r.body.status === 'fulfilled',
      what: 'the request fulfilled',
      timeoutMs: 30_000,
      intervalMs: 100,
    });
    return request.requestId as string;
  };

  beforeAll(async () => {
    const [pg, nats] = await Promise.all([startPostgres(), startNats()]);
    adminUrl = pg.adminUrl;
    natsUrl = nats.url;
    db = await createTestDatabase('custos_gateway_e2e');
    const setup = new Client({ connectionString: adminUrl });
    await setup.connect();
    await setup.query(`CREATE ROLE ${targetRole} LOGIN PASSWORD 'gw-${run}' NOSUPERUSER`);
    await setup.query(`CREATE DATABASE ${targetDb} OWNER ${targetRole}`);
    await setup.end();
    const url = new URL(adminUrl);
    url.username = targetRole;
    url.password = `gw-${run}`;
    url.pathname = `/${targetDb}`;
    gatewayPort = await freePort();
    env = {
      DATABASE_URL: db.url,
      NATS_URL: natsUrl,
      CUSTOS_NAMESPACE: randomNamespace(),
      CUSTOS_DEV_AUTH: 'true',
      CUSTOS_OIDC_ISSUER: undefined,
      CUSTOS_PG_GATEWAY_PORT: String(gatewayPort),
      CUSTOS_PG_GATEWAY_ID: `gw-e2e-${run}`,
      CUSTOS_PG_GATEWAY_TARGETS: JSON.stringify({ [target]: url.toString() }),
    };
    await start();
    api = new EntitlementApi(client);
    const t = await admin();
    await must('POST', '/catalog/entitlements', t, { key: entitlement, application: 'gw', name: 'Read the target', privileged: false, risk: 'medium', target, targetRole: 'pg_read_all_data', maxDuration: 'PT8H', approvalPolicy: { steps: [{ kind: 'manager', required: 1 }] } });
    // The security approvers' built-in entitlement, granted to one of them below.
    const security = await client.call('POST', '/catalog/entitlements', { token: t, body: { key: 'custos:security', application: 'custos', name: 'Security approver', privileged: true, risk: 'high' } });
    expect([201, 409]).toContain(security.status);
  }, 300_000);

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.end().catch(() => undefined)));
    await custos?.stop();
    await removeNamespaceStreamsAt(natsUrl, env.CUSTOS_NAMESPACE!).catch(() => undefined);
    await db?.drop();
    const setup = new Client({ connectionString: adminUrl });
    await setup.connect();
    await setup.query(`DROP DATABASE IF EXISTS ${targetDb} WITH (FORCE)`);
    await setup.query(`DROP ROLE IF EXISTS ${targetRole}`);
    await setup.end();
  }, 60_000);

  it('records simple and extended statements in order, with the request behind them; a replayed or wrong token is refused and audited', async () => {
    const mia = await api.hire('Mia', { department: `Gw-${run}` });
    const ada = await api.hire('Ada', { department: `Gw-${run}`, managerEmployeeId: `E-Mia-${api.run}` } as object);
    const requestId = await approvedJit(ada, mia, 'PT1H');
    const { c, token } = await connect(ada);
    await c.query('CREATE TABLE notes (id int PRIMARY KEY, body text)');
    await c.query('INSERT INTO notes VALUES ($1, $2), ($3, $4)', [1, 'secret-one', 2, 'two']);
    expect((await c.query('SELECT body FROM notes WHERE id = $1', [2])).rows).toEqual([{ body: 'two' }]);
    await expect(c.query('SELECT missing FROM notes')).rejects.toMatchObject({ code: '42703' });
    await c.query('SELECT 1; SELECT 2');
    // A result of several megabytes crosses in many chunks, whole.
    const big = await c.query("SELECT repeat('x', 1000) AS x FROM generate_series(1, 5000)");
    expect(big.rows).toHaveLength(5000);
    expect(big.rows.every((r: { x: string }) => r.x.length === 1000)).toBe(true);
    await c.end();

    const session = await sessionOf(ada, (s) => s.status === 'ended', 'the ended session');
    expect(session).toMatchObject({ identityId: ada, target, requestIds: [requestId], reason: 'client-closed', statements: 7 });
    const rec = await recording(session.sessionId);
    expect(rec.events[0]).toMatchObject({ type: 'SessionStarted', data: { identityId: ada, target, requestIds: [requestId], entitlements: [entitlement], upstreamUser: targetRole } });
    expect(rec.events.at(-1)).toMatchObject({ type: 'SessionEnded', data: { reason: 'client-closed', statements: 7 } });
    const statements = statementsOf(rec);
    expect(statements.map((s: any) => [s.seq, s.protocol, s.text])).toEqual([
      [1, 'simple', 'SELECT pg_backend_pid() AS pid'],
      [2, 'simple', 'CREATE TABLE notes (id int PRIMARY KEY, body text)'],
      [3, 'extended', 'INSERT INTO notes VALUES ($1, $2), ($3, $4)'],
      [4, 'extended', 'SELECT body FROM notes WHERE id = $1'],
      [5, 'simple', 'SELECT missing FROM notes'],
      [6, 'simple', 'SELECT 1; SELECT 2'],
      [7, 'simple', "SELECT repeat('x', 1000) AS x FROM generate_series(1, 5000)"],
    ]);
    expect(statements[6]).toMatchObject({ command: 'SELECT', rows: 5000 });
    expect(statements[2]).toMatchObject({ command: 'INSERT', rows: 2, parameters: ['[redacted]', '[redacted]', '[redacted]', '[redacted]'] });
    expect(statements[3]).toMatchObject({ command: 'SELECT', rows: 1 });
    expect(statements[4].error).toMatchObject({ code: '42703' });
    expect(JSON.stringify(rec)).not.toContain('secret-one');
    // The recording is in the audit log too, under Ada, in order, with the request that allowed it.
    const audited = await eventually(
      async () => client.call('GET', `/audit/events?identityId=${ada}&limit=1000`, { token: await auditor() }),
      { accept: (r) => r.status === 200 && r.body.items.some((e: any) => e.name === 'SessionEnded' && e.data.sessionId === session.sessionId), what: 'the session in the audit log', timeoutMs: 30_000, intervalMs: 200 },
    );
    const ofSession = audited.body.items.filter((e: any) => e.subject === `session-${session.sessionId}`).map((e: any) => e.name);
    expect(ofSession[0]).toBe('SessionStarted');
    expect(ofSession.at(-1)).toBe('SessionEnded');
    expect(ofSession.filter((n: string) => n !== 'StatementsRecorded')).toEqual(['SessionStarted', 'SessionEnded']);

    // The token is spent: a second connection with it is refused as a PostgreSQL authentication error, and recorded.
    await expect(pgThrough(ada, token).connect()).rejects.toMatchObject({ code: '28P01' });
    await expect(pgThrough(ada, 'cgs_made-up').connect()).rejects.toMatchObject({ code: '28P01' });
    await expect(pgThrough(mia, (await client.call('POST', '/sessions/token', { token: await client.token(mia), body: { target } })).body.token ?? 'none').connect()).rejects.toMatchObject({
      code: '28P01',
    });
    const refused = await sessionOf(ada, (s) => s.status === 'refused' && s.reason === 'invalid-token', 'the made-up token refused');
    expect(refused).toMatchObject({ clientAddress: '127.0.0.1' });
    await sessionOf(ada, (s) => s.status === 'refused' && s.reason === 'replayed-token', 'the replayed token refused');
    // Mia holds no grant on the target: no token at all.
    expect((await client.call('POST', '/sessions/token', { token: await client.token(mia), body: { target } })).status).toBe(403);
    // Nor may Mia read Ada's recording.
    expect((await client.call('GET', `/sessions/${session.sessionId}`, { token: await client.token(mia) })).status).toBe(404);

    // A privileged entitlement on the target: its holder's token needs a recent multi-factor login.
    const asAdmin = await admin();
    const privileged = `gw:admin-${run}`;
    await must('POST', '/catalog/entitlements', asAdmin, { key: privileged, application: 'gw', name: 'Administer the target', privileged: true, risk: 'high', target, targetRole: 'pg_write_all_data' });
    await eventually(() => client.call('POST', `/access/${mia}/grant`, { token: asAdmin, body: { entitlement: privileged, reason: 'on call', duration: 'PT1H' } }), {
      accept: (r) => r.status === 202,
      what: 'the privileged grant',
      timeoutMs: 30_000,
      intervalMs: 100,
    });
    const withoutMfa = await client.token(mia, [], ['pwd']);
    const refusedStepUp = await eventually(() => client.call('POST', '/sessions/token', { token: withoutMfa, body: { target } }), {
      accept: (r) => r.status !== 403 || r.body.type !== 'urn:custos:problem:no-access-to-target',
      what: 'the gateway to learn the privileged link and grant',
      timeoutMs: 30_000,
      intervalMs: 100,
    });
    expect(refusedStepUp).toMatchObject({ status: 403, body: { type: 'urn:custos:problem:step-up-required' } });
    expect((await client.call('POST', '/sessions/token', { token: await client.token(mia, [], ['pwd', 'mfa']), body: { target } })).status).toBe(201);
  });

  it("cuts an open session when the grant expires, and when it is revoked, with a PostgreSQL error saying why", async () => {
    const mia = await api.hire('Mio', { department: `Gx-${run}` });
    const bob = await api.hire('Bob', { department: `Gx-${run}`, managerEmployeeId: `E-Mio-${api.run}` } as object);
    await approvedJit(bob, mia, 'PT6S');
    const expiring = await connect(bob);
    await eventually(async () => expiring.errors, { accept: (e) => e.length > 0, what: 'the session cut at expiry', timeoutMs: 30_000, intervalMs: 100 });
    expect(expiring.errors[0]).toMatchObject({ code: '57P01', message: expect.stringMatching(/terminating connection: grant .* ended \(expired\)/) });
    const cut = await sessionOf(bob, (s) => s.reason === 'grant-ended', 'the expired session ended');
    expect(cut).toMatchObject({ status: 'ended', endedBy: 'system:gateway' });

    const requestId = await approvedJit(bob, mia, 'PT1H');
    const revoked = await connect(bob);
    const revokedAt = Date.now();
    await must('POST', `/requests/${requestId}/revoke`, await client.token(bob), { reason: 'done early' });
    await eventually(async () => revoked.errors, { accept: (e) => e.length > 0, what: 'the session cut at revoke', timeoutMs: 30_000, intervalMs: 20 });
    expect(Date.now() - revokedAt).toBeLessThan(15_000);
    expect(revoked.errors[0]).toMatchObject({ code: '57P01', message: expect.stringMatching(/ended \(request-revoked\)/) });
    // The upstream backend is gone too, not left running.
    const setup = new Client({ connectionString: adminUrl });
    await setup.connect();
    await eventually(() => setup.query('SELECT 1 FROM pg_stat_activity WHERE pid = $1', [revoked.pid]), { accept: (r) => r.rowCount === 0, what: 'the upstream backend gone', timeoutMs: 10_000, intervalMs: 50 });
    await setup.end();
  });

  it("cuts a leaver's session; a security approver watches one live and terminates another; an unknown protocol message closes a session; a CancelRequest cancels", async () => {
    const mia = await api.hire('Mil', { department: `Gy-${run}` });
    const cat = await api.hire('Cat', { department: `Gy-${run}`, managerEmployeeId: `E-Mil-${api.run}` } as object);
    const sec = await api.hire('Sec', { department: `Gy-${run}` });
    await approvedJit(cat, mia, 'PT1H');
    const asAdmin = await admin();
    await eventually(() => client.call('POST', `/access/${sec}/grant`, { token: asAdmin, body: { entitlement: 'custos:security', reason: 'on call' } }), {
      accept: (r) => r.status === 202,
      what: 'the entitlement context to know the security approver',
      timeoutMs: 30_000,
      intervalMs: 100,
    });

    // Watched and terminated.
    const watched = await connect(cat);
    const session = await sessionOf(cat, (s) => s.status === 'live', 'the live session');
    const secToken = await client.token(sec);
    const stream = await fetch(`${custos.url}/sessions/${session.sessionId}/stream`, { headers: { authorization: `Bearer ${secToken}` } });
    expect(stream.status).toBe(200);
    expect(stream.headers.get('content-type')).toContain('text/event-stream');
    const reader = stream.body!.getReader();
    let seen = '';
    const readUntil = async (text: string) => {
      while (!seen.includes(text)) {
        const { value, done } = await reader.read();
        if (done) break;
        seen += Buffer.from(value).toString('utf8');
      }
      return seen;
    };
    await readUntil('event: SessionStarted');
    await watched.c.query('SELECT 42 AS watched');
    expect(await readUntil('SELECT 42 AS watched')).toContain('event: StatementsRecorded');
    expect((await client.call('POST', `/sessions/${session.sessionId}/terminate`, { token: await client.token(cat), body: {} })).status).toBe(403);
    const terminated = await client.call('POST', `/sessions/${session.sessionId}/terminate`, { token: secToken, body: { reason: 'watching closely' } });
    expect(terminated.status).toBe(200);
    expect(terminated.body).toMatchObject({ status: 'ended', reason: 'terminated', endedBy: sec });
    expect(await readUntil('event: SessionEnded')).toContain('terminated');
    await eventually(async () => watched.errors, { accept: (e) => e.length > 0, what: 'the client told', timeoutMs: 10_000, intervalMs: 20 });
    expect(watched.errors[0].message).toContain(`terminated by a security approver (${sec}): watching closely`);
    expect((await client.call('POST', `/sessions/${session.sessionId}/terminate`, { token: secToken, body: {} })).status).toBe(409);

    // An unknown message type (a FunctionCall, 'F') is not forwarded: the session is closed.
    const odd = await connect(cat);
    const stream2 = (odd.c as unknown as { connection: { stream: { write(b: Buffer): void } } }).connection.stream;
    const fn = Buffer.alloc(5);
    fn.write('F', 0, 'latin1');
    fn.writeUInt32BE(4, 1);
    stream2.write(fn);
    await eventually(async () => odd.errors, { accept: (e) => e.length > 0, what: 'the session closed', timeoutMs: 10_000, intervalMs: 20 });
    expect(odd.errors[0]).toMatchObject({ code: '08P01' });
    await sessionOf(cat, (s) => s.reason === 'protocol-violation', 'the protocol violation recorded');

    // A CancelRequest to the gateway, with the key the gateway gave, cancels the statement running upstream; the session goes on.
    const busy = await connect(cat);
    const running = busy.c.query('SELECT pg_sleep(30)');
    await sleep(300);
    const canceller = new Client({ host: '127.0.0.1', port: gatewayPort });
    (canceller as unknown as { cancel(c: Client, q: unknown): void }).cancel(busy.c, (busy.c as unknown as { activeQuery: unknown }).activeQuery);
    await expect(running).rejects.toMatchObject({ code: '57014' });
    expect((await busy.c.query('SELECT 1 AS still')).rows).toEqual([{ still: 1 }]);
    await busy.c.end();

    // The leaver's open session goes with the rest of its access.
    const leaving = await connect(cat);
    await api.leave('Cat');
    await eventually(async () => leaving.errors, { accept: (e) => e.length > 0, what: "the leaver's session cut", timeoutMs: 30_000, intervalMs: 50 });
    expect(leaving.errors[0].message).toMatch(/the identity left|ended \(leaver\)/);
    await sessionOf(cat, (s) => s.reason === 'leaver', "the leaver's session ended as such");
  });

  it('marks a session incomplete when the gateway is killed mid-session, keeping every statement it recorded', async () => {
    const mia = await api.hire('Mik', { department: `Gz-${run}` });
    const dan = await api.hire('Dan', { department: `Gz-${run}`, managerEmployeeId: `E-Mik-${api.run}` } as object);
    await approvedJit(dan, mia, 'PT1H');
    const { c } = await connect(dan);
    for (let i = 0; i < 20; i++) await c.query('SELECT $1::int AS n', [i]);
    const live = await sessionOf(dan, (s) => s.status === 'live' && s.statements === 21, 'the 21 statements recorded');
    await custos.stop('SIGKILL');
    await c.end().catch(() => undefined);
    await start();
    const after = await sessionOf(dan, (s) => s.sessionId === live.sessionId && s.status === 'incomplete', 'the session marked incomplete');
    expect(after.statements).toBe(21);
    const rec = await recording(live.sessionId);
    expect(statementsOf(rec).map((s: any) => s.seq)).toEqual(Array.from({ length: 21 }, (_, i) => i + 1));
    expect(rec.events.at(-1)).toMatchObject({ type: 'SessionMarkedIncomplete', data: { gatewayId: `gw-e2e-${run}`, statements: 21 } });
    // The gateway serves again after the restart.
    const again = await connect(dan);
    expect((await again.c.query('SELECT 1 AS ok')).rows).toEqual([{ ok: 1 }]);
    await again.c.end();
  }, 300_000);
});
