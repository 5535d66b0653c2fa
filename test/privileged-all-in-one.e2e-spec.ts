import { randomBytes } from 'node:crypto';
import { eventually } from '@custos/platform/testing';
import { startTargetPostgres, type TargetPostgres } from '@custos/privileged/testing';
import { startEmbedded } from './support/deployment';
import { EntitlementApi } from './support/entitlement-api';

/**
 * The all-in-one (`npm start`: embedded store and bus, the vault's key made under its data
 * directory) with a PostgreSQL target given by URL: a just-in-time grant gives a working login,
 * and its revocation closes the session held open and refuses the login.
 */
describe('privileged access in the all-in-one, a target given by URL', () => {
  let deployment: Awaited<ReturnType<typeof startEmbedded>>;
  let target: TargetPostgres;
  let api: EntitlementApi;
  let role: string;

  beforeAll(async () => {
    target = await startTargetPostgres();
    role = `pam_ro_${randomBytes(3).toString('hex')}`;
    await target.admin((c) => c.query(`CREATE ROLE ${role} NOLOGIN`));
    deployment = await startEmbedded();
    api = new EntitlementApi(deployment.client);
  }, 180_000);
  afterAll(async () => {
    await deployment?.stop();
    await target?.stop();
  }, 60_000);

  it('registers the target by URL, refuses a bad URL without repeating it, and runs a grant\'s account from start to revocation', async () => {
    const url = `postgres://${target.adminUsername}:${encodeURIComponent(target.adminPassword)}@${target.host}:${target.port}/${target.database}`;
    const key = api.key('pg');
    const bad = await api.asAdmin('POST', '/targets', { key, kind: 'postgresql', url: `postgres://${target.adminUsername}:${target.adminPassword}@${target.host}:${target.port}/` });
    expect([bad.status, bad.body.errors]).toEqual([400, [{ field: 'url', message: expect.stringContaining('database name') }]]);
    expect(bad.text).not.toContain(target.adminPassword);
    const both = await api.asAdmin('POST', '/targets', { key, kind: 'postgresql', url, host: target.host });
    expect(both.status).toBe(400);
    expect(both.text).not.toContain(target.adminPassword);
    const registered = await api.asAdmin('POST', '/targets', { key, kind: 'postgresql', url });
    expect([registered.status, registered.body]).toEqual([201, expect.objectContaining({ key, host: target.host, port: target.port, database: target.database, adminUsername: target.adminUsername })]);
    expect(registered.text).not.toContain(target.adminPassword);

    const entitlement = api.key('pg:ro');
    expect((await api.asAdmin('POST', '/catalog/entitlements', { key: entitlement, application: 'pg', name: 'pg ro', privileged: false, risk: 'low', target: key, targetRole: role })).status).toBe(201);
    const ada = await api.hire('Ada', { department: api.key('Ops') });
    // The entitlement context learns of Ada from the identity context's event: ask until it has.
    await eventually(() => api.asAdmin('POST', `/access/${ada}/grant`, { entitlement, reason: 'on call', duration: 'PT1H' }), { accept: (r) => r.status === 202, what: 'the grant to Ada', timeoutMs: 20_000, intervalMs: 100 });
    const grant = (await api.grantsWhen(ada, (grants) => grants.some((g) => g.entitlement === entitlement), 'Ada\'s grant')).find((g) => g.entitlement === entitlement)!;
    const token = await deployment.client.token(ada);
    const delivered = await eventually(() => deployment.client.call('GET', `/access/${ada}/credentials/${grant.grantId}`, { token }), {
      accept: (r) => r.status === 200,
      what: 'the account on the target',
      timeoutMs: 20_000,
      intervalMs: 100,
    });
    const session = await target.connect(delivered.body.username, delivered.body.password);
    await session.query('SELECT 1');
    const closed = new Promise<void>((resolve) => session.on('end', () => resolve()));
    expect((await api.asAdmin('POST', `/access/${ada}/revoke`, { entitlement, reason: 'incident over' })).status).toBe(202);
    await closed;
    await expect(target.connect(delivered.body.username, delivered.body.password)).rejects.toThrow(/password authentication failed|is not permitted to log in/);
  }, 90_000);
});
