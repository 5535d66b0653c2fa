import { randomUUID } from 'node:crypto';
import { eventually } from '@custos/platform/testing';
import type { CustosClient } from './support/client';
import { startEmbedded } from './support/deployment';

/**
 * The auditor's questions about the past through the public API of the all-in-one (`npm start`):
 * a joiner gets a privileged birthright, then HR sends a backdated leaver (the termination took
 * effect 30 s before HR told Custos). access-at shows the access held after the termination, as
 * known now, and not as known before the leaver was recorded (asOf); the reports name the leaver,
 * and the deprovisioning time reaches Prometheus.
 */
describe('audit: point-in-time access and compliance reports', () => {
  let deployment: Awaited<ReturnType<typeof startEmbedded>>;
  let client: CustosClient;
  let auditor: string;
  let ada: string;
  let mid: string;
  const run = randomUUID().slice(0, 8);
  const entitlement = `pit:admin-${run}`;
  const employee = { employeeId: `E-pit-${run}`, givenName: 'Ada', familyName: 'Pit', email: `ada-${run}@example.com`, department: `Pit-${run}`, employmentType: 'employee' };
  const get = (path: string, headers: Record<string, string> = {}) => client.call('GET', path, { token: auditor, headers });

  beforeAll(async () => {
    deployment = await startEmbedded();
    client = deployment.client;
    auditor = await client.token(`auditor-${run}`, ['custos:auditor']);
    const admin = await client.token(`admin-${run}`, ['custos:admin'], ['pwd', 'mfa']);
    const hr = await client.token(`hr-${run}`, ['custos:hr']);
    const must = async (method: string, path: string, token: string, body: unknown) => {
      const r = await client.call(method, path, { token, body });
      if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${r.text}`);
      return r.body;
    };
    await must('POST', '/catalog/entitlements', admin, { key: entitlement, application: 'pit', name: 'Pit admin', privileged: true, risk: 'high' });
    await must('POST', '/roles', admin, { key: `pit-${run}`, name: 'Pit', entitlements: [entitlement] });
    await must('POST', '/birthright-rules', admin, { key: `pit-${run}`, name: 'Pit', when: { department: employee.department }, roles: [`pit-${run}`] });
    const hired = await must('POST', '/hr/events', hr, { eventId: `pit-${run}-1`, system: 'workday', type: 'joiner', effectiveAt: new Date(Date.now() - 3600_000).toISOString(), employee });
    ada = hired.identityId;
    await eventually(() => get(`/audit/access-at?identityId=${ada}&at=${new Date().toISOString()}`), {
      accept: (r) => r.status === 200 && r.body.grants.length === 1,
      what: 'the birthright grant in the audit history',
      timeoutMs: 30_000,
      intervalMs: 100,
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    mid = new Date().toISOString();
    await new Promise((resolve) => setTimeout(resolve, 20));
    await must('POST', '/hr/events', hr, { eventId: `pit-${run}-2`, system: 'workday', type: 'leaver', effectiveAt: new Date(Date.parse(mid) - 30_000).toISOString(), employee });
    await eventually(() => get(`/audit/access-at?identityId=${ada}&at=${new Date().toISOString()}`), {
      accept: (r) => r.status === 200 && r.body.grants.length === 0,
      what: 'the leaver revocation in the audit history',
      timeoutMs: 30_000,
      intervalMs: 100,
    });
  }, 120_000);

  afterAll(async () => {
    await deployment?.stop();
  });

  it('answers what was held then, with why; and what Custos knew then (asOf)', async () => {
    const known = await get(`/audit/access-at?identityId=${ada}&at=${mid}`);
    expect(known.status).toBe(200);
    expect(known.body.identity).toMatchObject({ status: 'terminated', change: 'terminated' });
    expect(known.body.grants).toEqual([expect.objectContaining({ entitlement, source: 'birthright', heldAfterTermination: true, revokeReason: 'leaver' })]);
    expect(known.body.grants[0].why.cause).toMatchObject({ name: 'IdentityHired', hr: { system: 'workday', eventId: `pit-${run}-1` } });
    expect(known.body.grants[0].why.granted).toMatchObject({ name: 'AccessGranted' });

    const then = await get(`/audit/access-at?identityId=${ada}&at=${mid}&asOf=${mid}`);
    expect(then.body.identity).toMatchObject({ status: 'active' });
    expect(then.body.grants).toEqual([expect.objectContaining({ entitlement, heldAfterTermination: false })]);
    expect(then.body.grants[0].revokedAt).toBeUndefined();

    const who = await get(`/audit/who-had-access?entitlement=${entitlement}&at=${mid}`);
    expect(who.body.holders.map((h: { identityId: string }) => h.identityId)).toEqual([ada]);
    const during = await get(`/audit/who-had-access?entitlement=${entitlement}&from=${new Date(Date.parse(mid) - 3600_000).toISOString()}&to=${new Date().toISOString()}`);
    expect(during.body.holders).toHaveLength(1);
  });

  it('names the leaver in the reports, in JSON and CSV, and exports the deprovisioning time to Prometheus', async () => {
    const held = await get(`/audit/reports/terminated-with-access?grace=PT0.001S&from=${new Date(Date.parse(mid) - 60_000).toISOString()}`);
    expect(held.status).toBe(200);
    expect(held.body.leavers).toBe(1);
    expect(held.body.items).toEqual([expect.objectContaining({ identityId: ada, entitlement })]);
    const csv = await get(`/audit/reports/terminated-with-access?grace=PT0.001S&from=${new Date(Date.parse(mid) - 60_000).toISOString()}`, { accept: 'text/csv' });
    expect(csv.headers.get('content-type')).toContain('text/csv');
    expect(csv.text.split('\r\n')[0]).toBe('identityId,terminationSeq,terminatedAt,terminationRecordedAt,grantId,entitlement,source,heldFrom,heldUntil,heldSeconds');
    expect(csv.text).toContain(ada);

    const slo = await eventually(() => get(`/audit/reports/deprovisioning?slo=PT1S&period=day`), {
      accept: (r) => r.status === 200 && r.body.items.some((i: { identityId: string; deprovisionedAt?: string }) => i.identityId === ada && i.deprovisionedAt),
      what: 'the leaver deprovisioned',
      timeoutMs: 10_000,
    });
    const leaver = slo.body.items.find((i: { identityId: string }) => i.identityId === ada);
    expect(leaver.seconds).toBeGreaterThanOrEqual(30);
    expect(slo.body.outsideSlo.map((i: { identityId: string }) => i.identityId)).toContain(ada);
    expect(slo.body.periods[0]).toMatchObject({ leavers: expect.any(Number), p50: expect.any(Number), p95: expect.any(Number), p99: expect.any(Number) });

    const privileged = await get(`/audit/reports/privileged-access?at=${mid}`);
    expect(privileged.body.items).toEqual([expect.objectContaining({ identityId: ada, entitlement, risk: 'high', source: 'birthright' })]);
    for (const report of ['sod-violations', 'jit-usage']) expect((await get(`/audit/reports/${report}`)).status).toBe(200);

    const metrics = await client.call('GET', '/metrics');
    expect(metrics.text).toMatch(/custos_audit_deprovisioning_seconds_count 1\b/);
  });

  it('verifies the log against its tree and against each context’s store', async () => {
    const verdict = await eventually(() => get('/audit/verify'), { accept: (r) => r.status === 200 && r.body.ok === true, what: 'a settled, verified log', timeoutMs: 20_000, intervalMs: 200 });
    expect(verdict.body.stores.map((s: { context: string; ok: boolean }) => [s.context, s.ok])).toEqual([['identity', true], ['entitlement', true], ['request', true], ['privileged', true], ['gateway', true]]);
    expect(verdict.body.stores.reduce((sum: number, s: { events: number; pending: number }) => sum + s.events + s.pending, 0)).toBeGreaterThanOrEqual(verdict.body.events);
  });

  it('refuses a bad time, a time in the future, an unknown report and a bad duration with a 400 naming it', async () => {
    const future = new Date(Date.now() + 3600_000).toISOString();
    const cases: Array<[string, string]> = [
      [`/audit/access-at?identityId=${ada}&at=${future}`, 'at'],
      [`/audit/access-at?identityId=${ada}&at=${mid}&asOf=${future}`, 'asOf'],
      [`/audit/access-at?identityId=${ada}&at=yesterday`, 'at'],
      [`/audit/access-at?identityId=${ada}`, 'at'],
      [`/audit/access-at?identityId=${ada}&at=${mid}&from=${mid}`, 'at'],
      [`/audit/who-had-access?entitlement=${entitlement}&from=${mid}`, 'to'],
      [`/audit/who-had-access?entitlement=${entitlement}&from=${mid}&to=${mid}`, 'from'],
      ['/audit/reports/nope', 'name'],
      ['/audit/reports/deprovisioning?slo=P1X', 'slo'],
      ['/audit/reports/deprovisioning?period=year', 'period'],
      ['/audit/reports/terminated-with-access?grace=forever', 'grace'],
      [`/audit/reports/sod-violations?at=${future}`, 'at'],
    ];
    for (const [path, field] of cases) {
      const r = await get(path);
      expect([path, r.status, r.headers.get('content-type')]).toEqual([path, 400, expect.stringContaining('application/problem+json')]);
      expect([path, r.body.errors?.map((e: { field: string }) => e.field)]).toEqual([path, expect.arrayContaining([field])]);
    }
  });
});
