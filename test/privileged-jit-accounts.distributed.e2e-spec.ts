import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { eventually, randomNamespace } from '@custos/platform/testing';
import { startTargetPostgres, type TargetPostgres } from '@custos/privileged/testing';
import { CustosClient } from './support/client';
import { startDistributed, type Deployment } from './support/deployment';
import { EntitlementApi, type Employee } from './support/entitlement-api';
import { startPermissionedNats, type NatsUser, type PermissionedNats } from './support/nats-auth';
import { startProcess, type RunningProcess } from './support/processes';

/** The privileged service's prefixes, as the ingress would route them. */
const privilegedPath = (path: string) => path.startsWith('/targets') || path.startsWith('/vault') || /^\/access\/[^/]+\/credentials\//.test(path);

/**
 * Privileged access end to end over NATS and PostgreSQL (the store) with a PostgreSQL target that
 * checks passwords: the five services as processes. A just-in-time request approved gives a
 * working login; at the grant's expiry the login fails and a session held open through it is
 * closed; a leaver's open session is cut off; a vault account checked out works until it is
 * checked in, then its password fails. No secret reaches the events, the answers' errors or the logs.
 * The bus is a nats-server with deploy/nats/custos-auth.conf, each service on its own key: all of it
 * runs within the services' permissions (the privileged service's included), without a violation.
 */
describe('privileged access: just-in-time database accounts and the vault, over NATS and PostgreSQL', () => {
  let deployment: Deployment;
  let nats: PermissionedNats;
  let privileged: RunningProcess;
  let api: EntitlementApi;
  let client: CustosClient;
  let target: TargetPostgres;
  let kekDir: string;
  let readonlyRole: string;
  let targetKey: string;
  let jitEntitlement: string;
  let mia: string, ada: string, bob: string;
  const secrets: string[] = [];
  const as = async (sub: string, method: string, path: string, body?: unknown) => client.call(method, path, { token: await client.token(sub), body });

  beforeAll(async () => {
    target = await startTargetPostgres();
    readonlyRole = `pam_ro_${randomBytes(3).toString('hex')}`;
    await target.admin(async (c) => {
      await c.query(`CREATE ROLE ${readonlyRole} NOLOGIN`);
      await c.query('CREATE TABLE orders (id int PRIMARY KEY)');
      await c.query('INSERT INTO orders VALUES (1), (2)');
      await c.query(`GRANT SELECT ON orders TO ${readonlyRole}`);
    });
    secrets.push(target.adminPassword);
    kekDir = mkdtempSync(join(tmpdir(), 'custos-pam-kek-'));
    writeFileSync(join(kekDir, 'vault.kek'), `k1 ${randomBytes(32).toString('base64')}\n`, { mode: 0o600 });
    const namespace = randomNamespace();
    nats = await startPermissionedNats(namespace);
    const credentials = (user: NatsUser) => ({ NATS_CREDS_FILE: nats.keys.seedFiles[user] });
    deployment = await startDistributed(
      'custos_pam_e2e',
      { identity: credentials('identity'), entitlement: credentials('entitlement'), request: credentials('request'), audit: credentials('audit') },
      { natsUrl: nats.url, namespace },
    );
    privileged = await startProcess('privileged-service', 'apps/privileged-service/src/main.ts', {
      ...deployment.env,
      ...credentials('privileged'),
      CUSTOS_VAULT_KEK_FILE: join(kekDir, 'vault.kek'),
      LOG_LEVEL: 'info',
    });
    client = new CustosClient(
      (path) => (privilegedPath(path) ? privileged.url : deployment.client['route'](path)),
      (claims) => deployment.client.token(claims.sub, claims.roles, claims.amr),
    );
    api = new EntitlementApi(client);
    targetKey = api.key('pg');
    jitEntitlement = api.key('pg:readonly');
    mia = await api.hire('Mia', { department: api.key('Data') });
    ada = await api.hire('Ada', { department: api.key('Data'), managerEmployeeId: `E-Mia-${api.run}` } as Partial<Employee>);
    bob = await api.hire('Bob', { department: api.key('Data'), managerEmployeeId: `E-Mia-${api.run}` } as Partial<Employee>);
  }, 240_000);

  afterAll(async () => {
    await privileged?.stop();
    await deployment?.stop();
    await nats?.stop();
    await target?.stop();
    if (kekDir) rmSync(kekDir, { recursive: true, force: true });
  }, 120_000);

  it('refuses a target it cannot log in to with 422 and the connector\'s reason, never echoing the password; registers one it can, without returning its password', async () => {
    const wrong = `not-it-${randomBytes(6).toString('hex')}`;
    secrets.push(wrong);
    const base = { kind: 'postgresql', host: target.host, port: target.port, database: target.database };
    const refused = await api.asAdmin('POST', '/targets', { key: targetKey, ...base, adminCredential: { username: target.adminUsername, password: wrong } });
    expect([refused.status, refused.body.type]).toEqual([422, 'urn:custos:problem:target-unreachable']);
    expect(refused.body.reason).toMatch(/password authentication failed/);
    expect(refused.text).not.toContain(wrong);
    const badInput = await api.asAdmin('POST', '/targets', { key: targetKey, ...base, port: 'x', adminCredential: { username: target.adminUsername, password: wrong } });
    expect(badInput.status).toBe(400);
    expect(badInput.text).not.toContain(wrong);

    const registered = await api.asAdmin('POST', '/targets', { key: targetKey, ...base, adminCredential: { username: target.adminUsername, password: target.adminPassword } });
    expect([registered.status, registered.body]).toEqual([201, expect.objectContaining({ key: targetKey, host: target.host, adminUsername: 'postgres' })]);
    expect(registered.text).not.toContain(target.adminPassword);
    expect((await api.asAdmin('GET', '/targets')).body.items.map((t: { key: string }) => t.key)).toContain(targetKey);

    const defined = await api.asAdmin('POST', '/catalog/entitlements', {
      key: jitEntitlement,
      application: 'pg',
      name: 'read the orders',
      privileged: false,
      risk: 'medium',
      target: targetKey,
      targetRole: readonlyRole,
      approvalPolicy: { steps: [{ kind: 'manager', required: 1 }] },
    });
    expect([defined.status, defined.body]).toEqual([201, expect.objectContaining({ target: targetKey, targetRole: readonlyRole })]);
  });

  it('gives a just-in-time request, once approved, a working login delivered once to the beneficiary; at the grant\'s expiry the login fails and the session held open is closed', async () => {
    const submitted = await eventually(() => as(ada, 'POST', '/requests', { entitlement: jitEntitlement, justification: 'INC-42: look at the orders', duration: 'PT25S' }), {
      accept: (r) => r.status === 201,
      what: 'the request service to know Ada, Mia and the entitlement',
      timeoutMs: 30_000,
      intervalMs: 250,
    });
    const approved = await as(mia, 'POST', `/requests/${submitted.body.requestId}/approve`, { comment: 'ok' });
    expect(approved.status).toBe(200);
    const fulfilled = await eventually(() => as(ada, 'GET', `/requests/${submitted.body.requestId}`), { accept: (r) => r.body?.status === 'fulfilled', what: 'the request to be fulfilled', timeoutMs: 20_000, intervalMs: 100 });
    const grantId = fulfilled.body.grantId as string;

    expect((await as(mia, 'GET', `/access/${ada}/credentials/${grantId}`)).status).toBe(403);
    const delivered = await eventually(() => as(ada, 'GET', `/access/${ada}/credentials/${grantId}`), { accept: (r) => r.status === 200, what: 'the account to be made on the target', timeoutMs: 20_000, intervalMs: 100 });
    const credential = delivered.body as { username: string; password: string; host: string; port: number; database: string; expiresAt: string };
    secrets.push(credential.password);
    expect(credential).toMatchObject({ username: expect.stringMatching(/^custos_[0-9a-f]{12}$/), host: target.host, port: target.port, database: target.database, expiresAt: fulfilled.body.expiresAt });
    const again = await as(ada, 'GET', `/access/${ada}/credentials/${grantId}`);
    expect([again.status, again.body.type]).toEqual([410, 'urn:custos:problem:credential-gone']);

    const session = await target.connect(credential.username, credential.password);
    expect((await session.query('SELECT count(*)::int AS n FROM orders')).rows).toEqual([{ n: 2 }]);
    const closed = new Promise<number>((resolve) => session.on('end', () => resolve(Date.now())));
    // Held open until the grant expires: the expiry ends it.
    const endedAt = await closed;
    expect(endedAt).toBeGreaterThanOrEqual(Date.parse(credential.expiresAt) - 1000);
    await expect(session.query('SELECT 1')).rejects.toThrow();
    await expect(target.connect(credential.username, credential.password)).rejects.toThrow(/password authentication failed/);
    const gone = await as(ada, 'GET', `/access/${ada}/credentials/${grantId}`);
    expect(gone.status).toBe(410);
  }, 120_000);

  it('cuts off a leaver: the open session of a just-in-time account ends when the leaver\'s access goes', async () => {
    const granted = await api.asAdmin('POST', `/access/${bob}/grant`, { entitlement: jitEntitlement, reason: 'on call', duration: 'PT1H' });
    expect(granted.status).toBe(202);
    const grant = (await api.grantsWhen(bob, (grants) => grants.some((g) => g.entitlement === jitEntitlement), 'Bob\'s grant')).find((g) => g.entitlement === jitEntitlement)!;
    const delivered = await eventually(() => as(bob, 'GET', `/access/${bob}/credentials/${grant.grantId}`), { accept: (r) => r.status === 200, what: 'Bob\'s account', timeoutMs: 20_000, intervalMs: 100 });
    secrets.push(delivered.body.password);
    const session = await target.connect(delivered.body.username, delivered.body.password);
    await session.query('SELECT 1');
    const closed = new Promise<void>((resolve) => session.on('end', () => resolve()));
    await api.leave('Bob');
    await closed;
    // Disabled (NOLOGIN) at once, dropped a moment later: refused either way.
    await expect(target.connect(delivered.body.username, delivered.body.password)).rejects.toThrow(/password authentication failed|is not permitted to log in/);
  }, 90_000);

  it('checks a vault account out to a grant holder only, one at a time; after check-in the password shown fails', async () => {
    const dbaEntitlement = api.key('pg:dba');
    const shared = `dba_${randomBytes(3).toString('hex')}`;
    await target.admin((c) => c.query(`CREATE ROLE ${shared} LOGIN PASSWORD 'everyone-knew-this'`));
    await api.defineEntitlements(dbaEntitlement);
    const account = api.key('dba');
    const registered = await api.asAdmin('POST', '/vault/accounts', { key: account, target: targetKey, username: shared, entitlement: dbaEntitlement, rotateEvery: 'P30D' });
    expect([registered.status, registered.body.status]).toEqual([201, 'rotating']);
    await eventually(() => api.asAdmin('GET', `/vault/accounts/${account}`), { accept: (r) => r.body?.status === 'available', what: 'the onboarding rotation', timeoutMs: 20_000, intervalMs: 100 });
    await expect(target.connect(shared, 'everyone-knew-this')).rejects.toThrow(/password authentication failed/);

    const refused = await as(ada, 'POST', `/vault/accounts/${account}/checkout`, {});
    expect([refused.status, refused.body.type]).toEqual([403, 'urn:custos:problem:no-active-grant']);
    for (const who of [ada, mia]) expect((await api.asAdmin('POST', `/access/${who}/grant`, { entitlement: dbaEntitlement, reason: 'maintenance', duration: 'PT2H' })).status).toBe(202);
    // With an Idempotency-Key: no copy of the answer is kept, so a repeat is a second check-out (409), never the password again.
    const checkOut = async () => client.call('POST', `/vault/accounts/${account}/checkout`, { token: await client.token(ada), body: { reason: 'vacuum' }, headers: { 'idempotency-key': `k-${api.run}` } });
    const out = await eventually(checkOut, { accept: (r) => r.status === 200, what: 'Ada\'s grant to count', timeoutMs: 20_000, intervalMs: 100 });
    secrets.push(out.body.password);
    expect(out.body).toMatchObject({ username: shared, leaseId: expect.any(String), expiresAt: expect.any(String) });
    const repeated = await checkOut();
    expect([repeated.status, repeated.body.type, repeated.text.includes(out.body.password)]).toEqual([409, 'urn:custos:problem:already-checked-out', false]);
    const used = await target.connect(shared, out.body.password);
    await used.query('SELECT 1');
    await used.end();
    await eventually(() => api.check(mia, dbaEntitlement), { accept: (c) => c.allowed, what: 'Mia\'s grant', timeoutMs: 20_000, intervalMs: 100 });
    const second = await as(mia, 'POST', `/vault/accounts/${account}/checkout`, {});
    expect([second.status, second.body.type]).toEqual([409, 'urn:custos:problem:already-checked-out']);
    expect((await as(mia, 'GET', `/vault/accounts/${account}`)).status).toBe(403);
    expect((await as(ada, 'GET', `/vault/accounts/${account}`)).body).toMatchObject({ status: 'checked-out', lease: { identityId: ada } });

    const checkedIn = await as(ada, 'POST', `/vault/accounts/${account}/checkin`, {});
    expect(checkedIn.status).toBe(200);
    await eventually(() => api.asAdmin('GET', `/vault/accounts/${account}`), { accept: (r) => r.body?.status === 'available' && r.body.version === 2, what: 'the check-in rotation', timeoutMs: 20_000, intervalMs: 100 });
    await expect(target.connect(shared, out.body.password)).rejects.toThrow(/password authentication failed/);
  }, 90_000);

  it('keeps every secret out of every context\'s events and every service\'s log', async () => {
    const db = new Client({ connectionString: deployment.env.DATABASE_URL });
    await db.connect();
    try {
      const { rows } = await db.query<{ schema: string }>(`SELECT table_schema AS schema FROM information_schema.tables WHERE table_name = 'events'`);
      expect(rows.map((r) => r.schema)).toContain('privileged');
      for (const { schema } of rows) {
        const dump = (await db.query<{ dump: string | null }>(`SELECT string_agg(data::text, ' ') AS dump FROM "${schema}".events`)).rows[0].dump ?? '';
        for (const secret of secrets) expect([schema, dump.includes(secret)]).toEqual([schema, false]);
      }
      // The idempotency layer's kept answers (its table is made on the first write with a key).
      if ((await db.query(`SELECT to_regclass('http.idempotency_keys') AS t`)).rows[0].t !== null) {
        const replays = (await db.query<{ dump: string | null }>(`SELECT string_agg(body::text, ' ') AS dump FROM http.idempotency_keys`)).rows[0].dump ?? '';
        for (const secret of secrets) expect(replays.includes(secret)).toBe(false);
      }
      const sealed = (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM privileged.vault_secrets`)).rows[0].n;
      expect(sealed).toBeGreaterThan(0);
    } finally {
      await db.end();
    }
    const logs = [privileged, ...Object.values(deployment.services)].map((s) => s.output()).join('\n');
    for (const secret of secrets) expect(logs.includes(secret)).toBe(false);
  });

  it('ran all of it within each service\'s NATS permissions: not one violation', () => {
    expect(nats.violations()).toEqual([]);
  });
});
