import { randomUUID } from 'node:crypto';
import { eventually } from '@custos/platform/testing';
import { CustosClient } from './client';

/**
 * The walking skeleton of issue 2, from an HR joiner to the audit log, driven only through the
 * public API. The same scenario runs against the four-process deployment and against `npm start`.
 */
export function walkingSkeleton(client: () => CustosClient) {
  const run = randomUUID().slice(0, 8);
  const ent = (name: string) => `github:${name}-${run}`;

  it('answers /health with the store and the bus, and serves the OpenAPI document', async () => {
    const health = await client().call('GET', '/health');
    expect(health.status).toBe(200);
    expect(health.body.checks.store.ok).toBe(true);
    expect(health.body.checks.bus.ok).toBe(true);
    const docs = await client().call('GET', '/docs-json');
    expect(docs.status).toBe(200);
    expect(docs.body.openapi).toMatch(/^3\./);
    expect(Object.keys(docs.body.paths).length).toBeGreaterThan(0);
  });

  it('refuses a request without a token, and a caller without the role', async () => {
    const anonymous = await client().call('POST', '/catalog/entitlements', { body: {} });
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('content-type')).toContain('application/problem+json');
    const employee = await client().token('someone');
    const forbidden = await client().call('POST', '/catalog/entitlements', { token: employee, body: {} });
    expect(forbidden.status).toBe(403);
  });

  it('grants birthright access to an Engineering joiner, checks it, and audits both events under one correlation id', async () => {
    const c = client();
    const admin = await c.token('admin-1', ['custos:admin']);
    const hr = await c.token('hr-bot', ['custos:hr']);
    const auditor = await c.token('auditor-1', ['custos:auditor']);

    // 1. the catalog: two entitlements, a role, a birthright rule
    for (const name of ['repo-read', 'ci-run']) {
      const created = await c.call('POST', '/catalog/entitlements', { token: admin, body: { key: ent(name), application: 'github', name, privileged: false, risk: 'low' } });
      expect(created.status).toBe(201);
    }
    const role = await c.call('POST', '/roles', { token: admin, body: { key: `eng-base-${run}`, name: 'Engineering base', entitlements: [ent('repo-read'), ent('ci-run')] } });
    expect(role.status).toBe(201);
    const department = `Engineering-${run}`;
    const rule = await c.call('POST', '/birthright-rules', { token: admin, body: { key: `eng-${run}`, name: 'Engineering', when: { department }, roles: [`eng-base-${run}`] } });
    expect(rule.status).toBe(201);

    // 2. a joiner in Engineering
    const joiner = await c.call('POST', '/hr/events', {
      token: hr,
      body: {
        eventId: `wd-${run}-1`, system: 'workday', type: 'joiner', effectiveAt: '2026-01-05T09:00:00Z',
        employee: { employeeId: `E-${run}`, givenName: 'Ada', familyName: 'Lovelace', email: `ada-${run}@example.com`, department, title: 'Engineer', employmentType: 'employee' },
      },
    });
    expect(joiner.status).toBe(202);
    expect(joiner.body.status).toBe('applied');
    const identityId: string = joiner.body.identityId;

    // a repeat of the same HR event is a no-op that returns the first answer
    const repeat = await c.call('POST', '/hr/events', {
      token: hr,
      body: {
        eventId: `wd-${run}-1`, system: 'workday', type: 'joiner', effectiveAt: '2026-01-05T09:00:00Z',
        employee: { employeeId: `E-${run}`, givenName: 'Ada', familyName: 'Lovelace', email: `ada-${run}@example.com`, department, title: 'Engineer', employmentType: 'employee' },
      },
    });
    expect(repeat.body).toEqual({ identityId, status: 'duplicate' });

    const identity = await eventually(async () => {
      const r = await c.call('GET', `/identities/${identityId}`, { token: admin });
      return r.status === 200 ? r.body : undefined;
    }, { what: 'the identity read model' });
    expect(identity).toMatchObject({ identityId, employeeId: `E-${run}`, department, status: 'active' });

    // 3-4. the entitlement service granted the role's entitlements; the check allows them
    const access = await eventually(async () => {
      const r = await c.call('GET', `/access/${identityId}`, { token: admin });
      return r.status === 200 && r.body.grants.length === 2 ? r.body : undefined;
    }, { what: 'birthright grants', timeoutMs: 20_000 });
    expect(access.grants.map((g: any) => g.entitlement).sort()).toEqual([ent('ci-run'), ent('repo-read')].sort());
    for (const grant of access.grants) expect(grant).toMatchObject({ source: 'birthright', role: `eng-base-${run}` });
    const check = await c.call('GET', `/check?identityId=${identityId}&entitlement=${encodeURIComponent(ent('repo-read'))}`, { token: admin });
    expect(check.status).toBe(200);
    expect(check.body.allowed).toBe(true);
    expect(check.body.grantIds.length).toBe(1);
    const denied = await c.call('GET', `/check?identityId=${identityId}&entitlement=${encodeURIComponent('github:org-admin')}`, { token: admin });
    expect(denied.body.allowed).toBe(false);

    // 5. the audit log shows IdentityHired and AccessGranted, linked by correlation id
    const audit = await eventually(async () => {
      const r = await c.call('GET', `/audit/events?identityId=${identityId}`, { token: auditor });
      // Each context's events reach the log through a consumer of their own: in whichever order, both are awaited.
      const items = r.status === 200 ? r.body.items : [];
      return items.filter((e: any) => e.name === 'AccessGranted').length === 2 && items.some((e: any) => e.name === 'IdentityHired') ? r.body : undefined;
    }, { what: 'audit events', timeoutMs: 20_000 });
    const hired = audit.items.find((e: any) => e.name === 'IdentityHired');
    expect(hired).toBeDefined();
    expect(hired.type).toBe('custos.identity.IdentityHired.v1');
    for (const granted of audit.items.filter((e: any) => e.name === 'AccessGranted')) {
      expect(granted.correlationid).toBe(hired.correlationid);
      expect(granted.causationid).toBe(hired.id);
    }
    const verify = await c.call('GET', '/audit/verify', { token: auditor });
    expect(verify.status).toBe(200);
    expect(verify.body.ok).toBe(true);
    expect(verify.body.events).toBeGreaterThanOrEqual(audit.items.length);
  });

  it('answers bad input with problem details and writes nothing', async () => {
    const c = client();
    const admin = await c.token('admin-1', ['custos:admin']);
    const hr = await c.token('hr-bot', ['custos:hr']);
    const missing = await c.call('POST', '/hr/events', { token: hr, body: { eventId: 'x', system: 'workday', type: 'joiner', effectiveAt: 'tomorrow', employee: { employeeId: 'E-x' } } });
    expect(missing.status).toBe(400);
    expect(missing.headers.get('content-type')).toContain('application/problem+json');
    const fields = missing.body.errors.map((e: any) => e.field);
    expect(fields).toEqual(expect.arrayContaining(['effectiveAt', 'employee.givenName', 'employee.email']));
    const unknownField = await c.call('POST', '/catalog/entitlements', { token: admin, body: { key: ent('x'), application: 'github', name: 'x', privileged: false, risk: 'low', colour: 'blue' } });
    expect(unknownField.status).toBe(400);
    const unknownRole = await c.call('POST', '/birthright-rules', { token: admin, body: { key: `bad-${run}`, name: 'bad', when: { department: 'Sales' }, roles: [`no-such-role-${run}`] } });
    expect(unknownRole.status).toBe(422);
    expect(unknownRole.body.detail).toContain(`no-such-role-${run}`);
    const unknownEntitlement = await c.call('POST', '/roles', { token: admin, body: { key: `bad-role-${run}`, name: 'bad', entitlements: [`nope-${run}`] } });
    expect(unknownEntitlement.status).toBe(422);
    expect(unknownEntitlement.body.detail).toContain(`nope-${run}`);
    const notWritten = await c.call('GET', `/roles/bad-role-${run}`, { token: admin });
    expect(notWritten.status).toBe(404);
    const malformed = await c.call('POST', '/roles', { token: admin, body: '{"key": ' });
    expect(malformed.status).toBe(400);
    expect(malformed.headers.get('content-type')).toContain('application/problem+json');
  });
}
