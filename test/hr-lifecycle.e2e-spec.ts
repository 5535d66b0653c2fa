import { randomUUID } from 'node:crypto';
import { eventually } from '@custos/platform/testing';
import { Deployment, startDistributed } from './support/deployment';

/**
 * HR lifecycle through POST /hr/events against the four services over NATS and PostgreSQL:
 * duplicates, concurrent duplicates, out-of-order, backdated and future-dated changes.
 */
describe('HR lifecycle over the webhook', () => {
  let d: Deployment;
  let hr: string;
  let admin: string;
  const run = randomUUID().slice(0, 8);
  const department = `Platform-${run}`;
  const entitlement = `vault:read-${run}`;
  let n = 0;

  const employee = (employeeId: string, over: Record<string, unknown> = {}) => ({
    employeeId, givenName: 'Grace', familyName: 'Hopper', email: `${employeeId.toLowerCase()}@example.com`, department, title: 'Engineer', employmentType: 'employee', ...over,
  });
  const hrEvent = (type: string, effectiveAt: string, emp: Record<string, unknown>, eventId = `${run}-${++n}`) => ({ eventId, system: 'workday', type, effectiveAt, employee: emp });
  const post = (body: unknown) => d.client.call('POST', '/hr/events', { token: hr, body });
  const identity = async (id: string) => {
    const r = await d.client.call('GET', `/identities/${id}`, { token: admin });
    return r.status === 200 ? r.body : undefined;
  };
  const check = async (id: string) => (await d.client.call('GET', `/check?identityId=${id}&entitlement=${encodeURIComponent(entitlement)}`, { token: admin })).body;

  beforeAll(async () => {
    d = await startDistributed();
    hr = await d.client.token('hr-bot', ['custos:hr']);
    admin = await d.client.token('admin-1', ['custos:admin']);
    expect((await d.client.call('POST', '/catalog/entitlements', { token: admin, body: { key: entitlement, application: 'vault', name: 'read', privileged: false, risk: 'low' } })).status).toBe(201);
    expect((await d.client.call('POST', '/roles', { token: admin, body: { key: `platform-${run}`, name: 'Platform', entitlements: [entitlement] } })).status).toBe(201);
    expect((await d.client.call('POST', '/birthright-rules', { token: admin, body: { key: `platform-${run}`, name: 'Platform', when: { department }, roles: [`platform-${run}`] } })).status).toBe(201);
  });

  afterAll(() => d?.stop());

  it('applies one of eight identical joiners sent at once; the rest are duplicates with the same identity', async () => {
    const body = hrEvent('joiner', '2026-01-05T09:00:00Z', employee(`C-${run}`));
    const answers = await Promise.all(Array.from({ length: 8 }, () => post(body)));
    expect(answers.map((a) => a.status)).toEqual(Array(8).fill(202));
    expect(answers.filter((a) => a.body.status === 'applied')).toHaveLength(1);
    expect(new Set(answers.map((a) => a.body.identityId)).size).toBe(1);
    const history = await eventually(async () => {
      const r = await d.client.call('GET', `/identities/${answers[0].body.identityId}/history`, { token: admin });
      return r.status === 200 ? r.body : undefined;
    });
    expect(history.items.map((i: any) => i.type)).toEqual(['IdentityHired']);
  });

  it('answers a mover or leaver for an unknown employee with a 404 problem and writes nothing', async () => {
    for (const type of ['mover', 'leaver']) {
      const r = await post(hrEvent(type, '2026-01-05T09:00:00Z', employee(`NOBODY-${run}`)));
      expect(r.status).toBe(404);
      expect(r.headers.get('content-type')).toContain('application/problem+json');
    }
    const list = await d.client.call('GET', `/identities?employeeId=NOBODY-${run}`, { token: admin });
    expect(list.body.items).toEqual([]);
  });

  it('answers a rehire of an active employee with a 409 problem, and goes on serving (it ended the process: an HTTP status of "active")', async () => {
    const joined = await post(hrEvent('joiner', '2026-01-05T09:00:00Z', employee(`E-${run}-RH`)));
    expect(joined.status).toBe(202);
    const rehire = await post(hrEvent('rehire', '2026-02-05T09:00:00Z', employee(`E-${run}-RH`)));
    expect(rehire.status).toBe(409);
    expect(rehire.body).toMatchObject({ status: 409, type: expect.stringMatching(/^urn:custos:problem:/) });
    expect((await d.client.call('GET', '/health/live')).status).toBe(200);
    expect((await identity(joined.body.identityId))?.status).toBe('active');
  });

  it('keeps the newer record when an older mover arrives late, and shows both in the history', async () => {
    const joined = await post(hrEvent('joiner', '2026-01-05T09:00:00Z', employee(`O-${run}`)));
    const id = joined.body.identityId;
    expect((await post(hrEvent('mover', '2026-03-01T00:00:00Z', employee(`O-${run}`, { title: 'Staff Engineer' })))).body.status).toBe('applied');
    expect((await post(hrEvent('mover', '2026-02-01T00:00:00Z', employee(`O-${run}`, { title: 'Senior Engineer' })))).body.status).toBe('applied');
    const history = await eventually(async () => {
      const r = await d.client.call('GET', `/identities/${id}/history`, { token: admin });
      return r.body?.items?.length === 3 ? r.body : undefined;
    });
    expect(history.items.map((i: any) => i.type)).toEqual(['IdentityHired', 'IdentityMoved', 'IdentityChangeSuperseded']);
    expect(history.items[2]).toMatchObject({ effectiveAt: '2026-02-01T00:00:00Z' });
    expect(history.items[2].recordedAt).not.toBe(history.items[2].effectiveAt);
    const current = await eventually(async () => ((await identity(id))?.version === 3 ? identity(id) : undefined));
    expect(current.title).toBe('Staff Engineer');
  });

  it('terminates on a backdated leaver: the identity is terminated and every grant is revoked, the check denies', async () => {
    const joined = await post(hrEvent('joiner', '2026-01-05T09:00:00Z', employee(`L-${run}`)));
    const id = joined.body.identityId;
    await eventually(async () => (await check(id)).allowed === true, { what: 'birthright access', timeoutMs: 20_000 });
    const yesterday = new Date(Date.now() - 86_400_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    expect((await post(hrEvent('leaver', yesterday, employee(`L-${run}`)))).body).toEqual({ identityId: id, status: 'applied' });
    await eventually(async () => (await check(id)).allowed === false, { what: 'the check to deny', timeoutMs: 20_000 });
    expect((await check(id)).reason).toBe('terminated');
    const access = await eventually(async () => {
      const r = await d.client.call('GET', `/access/${id}`, { token: admin });
      return r.body.grants.length === 0 ? r.body : undefined;
    }, { what: 'every grant revoked' });
    expect(access.status).toBe('terminated');
    await eventually(async () => (await identity(id))?.status === 'terminated');
  });

  it('schedules a future-dated joiner: pending until the start date, then active with its birthright', async () => {
    const start = new Date(Date.now() + 3000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const joined = await post(hrEvent('joiner', start, employee(`F-${run}`)));
    expect(joined.body.status).toBe('scheduled');
    const id = joined.body.identityId;
    expect((await eventually(() => identity(id))).status).toBe('pending');
    expect((await check(id)).allowed).toBe(false);
    await eventually(async () => (await identity(id))?.status === 'active', { what: 'activation on the start date', timeoutMs: 20_000 });
    await eventually(async () => (await check(id)).allowed === true, { what: 'birthright after activation', timeoutMs: 20_000 });
  });

  it('applies changes sent without effectiveAt when received, on both HTTP paths; a repeat is a duplicate; the OpenAPI document says so', async () => {
    const sent = Date.now();
    const joiner = { eventId: `${run}-now-1`, system: 'workday', type: 'joiner', employee: employee(`N-${run}`) };
    const first = await post(joiner);
    expect(first.status).toBe(202);
    expect(first.body.status).toBe('applied');
    const id = first.body.identityId;
    // With an Idempotency-Key the request takes the full Nest stack (ValidationPipe on the DTO).
    const mover = { eventId: `${run}-now-2`, system: 'workday', type: 'mover', employee: employee(`N-${run}`, { title: 'Lead' }) };
    const moved = await d.client.call('POST', '/hr/events', { token: hr, body: mover, headers: { 'idempotency-key': `now-${run}` } });
    expect(moved.status).toBe(202);
    expect(moved.body).toEqual({ identityId: id, status: 'applied' });
    expect((await post(joiner)).body).toEqual({ identityId: id, status: 'duplicate' });
    expect((await post(mover)).body).toEqual({ identityId: id, status: 'duplicate' });
    const history = await eventually(async () => {
      const r = await d.client.call('GET', `/identities/${id}/history`, { token: admin });
      return r.body?.items?.length === 2 ? r.body : undefined;
    });
    expect(history.items.map((i: any) => i.type)).toEqual(['IdentityHired', 'IdentityMoved']);
    for (const item of history.items) {
      expect(Date.parse(item.effectiveAt)).toBeGreaterThanOrEqual(sent - 5_000);
      expect(Date.parse(item.effectiveAt)).toBeLessThanOrEqual(Date.now() + 5_000);
    }
    const docs = await d.client.call('GET', '/docs-json');
    const schema = docs.body.components.schemas.HrEventDto;
    expect(schema.required).not.toContain('effectiveAt');
    expect(schema.properties.effectiveAt).toMatchObject({ type: 'string', format: 'date-time', nullable: true });
    expect(schema.properties.effectiveAt.description).toContain('defaults to the time Custos receives the event');
  });

  it('replays the first answer to a write repeated with the same Idempotency-Key', async () => {
    const joined = await post(hrEvent('joiner', '2026-01-05T09:00:00Z', employee(`I-${run}`, { department: 'Elsewhere' })));
    const id = joined.body.identityId;
    await eventually(async () => (await d.client.call('GET', `/access/${id}`, { token: admin })).status === 200);
    await eventually(async () => {
      const r = await d.client.call('POST', `/access/${id}/grant`, { token: admin, body: { entitlement, reason: 'probe' }, headers: { 'idempotency-key': `probe-${run}` } });
      return r.status === 202 ? r : undefined;
    }, { what: 'the entitlement service to know the identity' });
    const again = await d.client.call('POST', `/access/${id}/grant`, { token: admin, body: { entitlement, reason: 'probe' }, headers: { 'idempotency-key': `probe-${run}` } });
    expect(again.status).toBe(202);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    const reused = await d.client.call('POST', `/access/${id}/grant`, { token: admin, body: { entitlement, reason: 'something else' }, headers: { 'idempotency-key': `probe-${run}` } });
    expect(reused.status).toBe(422);
    const access = await d.client.call('GET', `/access/${id}`, { token: admin });
    expect(access.body.grants.filter((g: any) => g.source === 'admin')).toHaveLength(1);
    // and it stays one: the replay and the refused reuse wrote nothing
    const later = await d.client.call('GET', `/access/${id}`, { token: admin });
    expect(later.body.grants.filter((g: any) => g.source === 'admin')).toHaveLength(1);
  });
});
