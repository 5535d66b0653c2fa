import { eventually } from '@custos/platform/testing';
import { EntitlementApi, type Employee } from './support/entitlement-api';
import { EntitlementDeployment, startEntitlementDeployment } from './support/entitlement-deployment';

/**
 * The main path of access requests across the four services over NATS and PostgreSQL: an
 * employee asks, their manager and then the entitlement's owner approve, the entitlement service
 * grants, and GET /check allows; self-approval, an ineligible approver and bad input are refused
 * and write nothing but the recorded refusal.
 */
describe('access requests: submit, approve by manager then owner, granted just in time; refusals write nothing', () => {
  let deployment: EntitlementDeployment;
  let api: EntitlementApi;
  let dbRead: string, capped: string;
  let mia: string, olga: string, ada: string;
  const as = async (sub: string, method: string, path: string, body?: unknown, amr?: string[]) =>
    api.client.call(method, path, { token: await api.client.token(sub, [], amr), body });
  /** Requests raised by Ada so far, as the request service lists them. */
  const adaRequests = async () => (await as(ada, 'GET', `/requests?requesterId=${ada}&limit=500`)).body.items as Array<{ requestId: string }>;

  beforeAll(async () => {
    deployment = await startEntitlementDeployment('custos_requests');
    api = new EntitlementApi(deployment.client);
    dbRead = api.key('db:read');
    capped = api.key('db:capped');
    mia = await api.hire('Mia', { department: api.key('Data') });
    olga = await api.hire('Olga', { department: api.key('Data') });
    ada = await api.hire('Ada', { department: api.key('Data'), managerEmployeeId: `E-Mia-${api.run}` } as Partial<Employee>);
    const policy = { steps: [{ kind: 'manager', required: 1 }, { kind: 'owner', required: 1 }] };
    for (const [key, extra] of [[dbRead, {}], [capped, { maxDuration: 'PT1H' }]] as const) {
      const defined = await api.asAdmin('POST', '/catalog/entitlements', { key, application: 'db', name: key, privileged: false, risk: 'medium', ownerId: olga, approvalPolicy: policy, ...extra });
      expect(defined.status).toBe(201);
    }
  });

  afterAll(async () => {
    await deployment?.stop();
  });

  it('routes Ada\'s request to her manager then the owner, grants it once both approve, and GET /check allows it until its end', async () => {
    // The request service learns identities and the catalog from their events: ask until it has.
    const submitted = await eventually(() => as(ada, 'POST', '/requests', { entitlement: dbRead, justification: 'quarterly report', duration: 'PT2H' }), {
      accept: (r) => r.status === 201,
      what: 'the request service to know Ada, her manager and the entitlement',
      timeoutMs: 30_000,
      intervalMs: 250,
    });
    const requestId = submitted.body.requestId as string;
    expect(submitted.body).toMatchObject({
      status: 'pending',
      requesterId: ada,
      beneficiaryId: ada,
      target: { kind: 'entitlement', key: dbRead },
      duration: 'PT2H',
      steps: [
        { kind: 'manager', approverIds: [mia], required: 1, status: 'pending', decisions: [] },
        { kind: 'owner', approverIds: [olga], required: 1, status: 'waiting', decisions: [] },
      ],
    });

    const inbox = await as(mia, 'GET', '/approvals');
    expect(inbox.status).toBe(200);
    expect(inbox.body.items).toEqual([
      expect.objectContaining({ requestId, justification: 'quarterly report', stepKind: 'manager', beneficiary: expect.objectContaining({ identityId: ada, name: 'Ada Tester' }) }),
    ]);
    expect((await as(olga, 'GET', '/approvals')).body.items).toEqual([]);

    const self = await as(ada, 'POST', `/requests/${requestId}/approve`, {});
    expect([self.status, self.body.type]).toEqual([403, 'urn:custos:problem:self-approval']);
    const early = await as(olga, 'POST', `/requests/${requestId}/approve`, {});
    expect([early.status, early.body.type]).toEqual([403, 'urn:custos:problem:not-eligible-approver']);

    const byManager = await as(mia, 'POST', `/requests/${requestId}/approve`, { comment: 'fine' });
    expect([byManager.status, byManager.body.status, byManager.body.steps.map((s: { status: string }) => s.status)]).toEqual([200, 'pending', ['approved', 'pending']]);
    expect(byManager.body.steps[0].decisions).toEqual([{ approverId: mia, decision: 'approve', comment: 'fine', decidedAt: expect.any(String) }]);
    const byOwner = await as(olga, 'POST', `/requests/${requestId}/approve`, {});
    expect([byOwner.status, byOwner.body.status]).toEqual([200, 'approved']);

    const fulfilled = await eventually(() => as(ada, 'GET', `/requests/${requestId}`), {
      accept: (r) => r.body?.status === 'fulfilled',
      what: 'the request to be fulfilled',
      timeoutMs: 20_000,
      intervalMs: 100,
    });
    expect(fulfilled.body).toMatchObject({ grantId: expect.any(String), expiresAt: expect.any(String), grants: [expect.objectContaining({ entitlement: dbRead })] });
    // The check view follows the entitlement store a few ms behind the grant the request recorded.
    const check = await eventually(() => api.check(ada, dbRead), { accept: (c) => c.allowed, what: 'GET /check to allow the grant', timeoutMs: 10_000, intervalMs: 20 });
    expect(check).toMatchObject({ allowed: true, reason: 'granted', grantIds: [fulfilled.body.grantId], expiresAt: fulfilled.body.expiresAt });
    expect((await api.grants(ada)).find((g) => g.entitlement === dbRead)).toMatchObject({ source: 'request', grantId: fulfilled.body.grantId });

    const again = await as(olga, 'POST', `/requests/${requestId}/approve`, {});
    expect([again.status, again.body.type]).toEqual([409, 'urn:custos:problem:request-not-pending']);
    expect((await as(api.key('stranger'), 'GET', `/requests/${requestId}`)).status).toBe(403);
    expect((await as(mia, 'GET', '/approvals')).body.items).toEqual([]);
  });

  it('gives the access back early when Ada revokes it: the grant is revoked and the request shows revoked', async () => {
    const [latest] = await adaRequests();
    const revoked = await as(ada, 'POST', `/requests/${latest.requestId}/revoke`, { reason: 'done' });
    expect(revoked.status).toBe(202);
    await eventually(() => as(ada, 'GET', `/requests/${latest.requestId}`), { accept: (r) => r.body?.status === 'revoked', what: 'the request to show revoked', timeoutMs: 20_000, intervalMs: 100 });
    await eventually(() => api.check(ada, dbRead), { accept: (c) => !c.allowed, what: 'GET /check to deny the access given back', timeoutMs: 10_000, intervalMs: 20 });
  });

  it.each<[string, (ids: { ada: string }) => Record<string, unknown>, number, string, string | undefined]>([
    ['a missing justification is 400 naming it', () => ({ entitlement: dbRead }), 400, 'urn:custos:problem:validation', 'justification'],
    ['a duration that is none is 400 naming it', () => ({ entitlement: dbRead, justification: 'x', duration: '2 hours' }), 400, 'urn:custos:problem:validation', 'duration'],
    ['neither entitlement nor role is 400 naming entitlement', () => ({ justification: 'x' }), 400, 'urn:custos:problem:validation', 'entitlement'],
    ['an unknown entitlement is 422 naming it', () => ({ entitlement: api.key('ghost'), justification: 'x' }), 422, 'urn:custos:problem:unknown-entitlement', undefined],
    ['a duration over the maximum is 422 stating it', () => ({ entitlement: capped, justification: 'x', duration: 'PT2H' }), 422, 'urn:custos:problem:duration-exceeds-maximum', undefined],
  ])('refuses a request where %s, and writes nothing', async (_description, body, status, type, field) => {
    const before = await adaRequests();
    const refused = await as(ada, 'POST', '/requests', body({ ada }));
    expect([refused.status, refused.body.type]).toEqual([status, type]);
    if (field) expect(refused.body.errors.map((e: { field: string }) => e.field)).toContain(field);
    if (type.endsWith('unknown-entitlement')) expect(refused.body.entitlement).toBe(api.key('ghost'));
    if (type.endsWith('duration-exceeds-maximum')) expect(refused.body).toMatchObject({ maxDuration: 'PT1H', detail: expect.stringContaining('PT1H') });
    expect(await adaRequests()).toEqual(before);
  });

  it('refuses a request for someone else by a colleague (403); the manager may raise one, but not approve it: with no security approver to route to it is 422', async () => {
    const before = await adaRequests();
    const byColleague = await as(olga, 'POST', '/requests', { beneficiaryId: ada, entitlement: dbRead, justification: 'for Ada' });
    expect([byColleague.status, byColleague.body.type]).toEqual([403, 'urn:custos:problem:not-allowed-to-request']);
    const byManager = await as(mia, 'POST', '/requests', { beneficiaryId: ada, entitlement: dbRead, justification: 'for Ada' });
    expect([byManager.status, byManager.body.type]).toEqual([422, 'urn:custos:problem:no-eligible-approvers']);
    expect(await adaRequests()).toEqual(before);
  });

  it('lets Cyd, to whom Mia delegated while away, approve in her place (recorded on her behalf); Ada as Mia\'s delegate is refused 403 and the refusal recorded', async () => {
    const cyd = await api.hire('Cyd', { department: api.key('Data') });
    const until = new Date(Date.now() + 24 * 3600_000).toISOString();
    const delegated = await eventually(() => as(mia, 'POST', '/approvals/delegations', { delegateId: cyd, until }), {
      accept: (r) => r.status === 201,
      what: 'the request service to know Cyd',
      timeoutMs: 30_000,
      intervalMs: 250,
    });
    expect(delegated.body).toMatchObject({ approverId: mia, delegateId: cyd, until, status: 'active' });
    const overlapping = await as(mia, 'POST', '/approvals/delegations', { delegateId: olga, until });
    expect([overlapping.status, overlapping.body.type]).toEqual([409, 'urn:custos:problem:delegation-overlaps']);

    const submitted = await as(ada, 'POST', '/requests', { entitlement: dbRead, justification: 'while Mia is away', duration: 'PT1H' });
    expect(submitted.status).toBe(201);
    const requestId = submitted.body.requestId as string;
    const inbox = await as(cyd, 'GET', '/approvals');
    expect(inbox.body.items).toEqual([expect.objectContaining({ requestId, onBehalfOf: mia, stepKind: 'manager' })]);
    const byCyd = await as(cyd, 'POST', `/requests/${requestId}/approve`, { comment: 'for Mia' });
    expect([byCyd.status, byCyd.body.steps.map((s: { status: string }) => s.status)]).toEqual([200, ['approved', 'pending']]);
    expect(byCyd.body.steps[0].decisions).toEqual([{ approverId: cyd, onBehalfOf: mia, decision: 'approve', comment: 'for Mia', decidedAt: expect.any(String) }]);

    const listed = await as(cyd, 'GET', '/approvals/delegations');
    expect(listed.body.items).toEqual([expect.objectContaining({ delegationId: delegated.body.delegationId, status: 'active' })]);
    expect((await as(olga, 'DELETE', `/approvals/delegations/${delegated.body.delegationId}`)).status).toBe(403);
    const ended = await as(mia, 'DELETE', `/approvals/delegations/${delegated.body.delegationId}`);
    expect([ended.status, ended.body.status, ended.body.endedBy]).toEqual([200, 'ended', mia]);
    expect((await as(cyd, 'GET', '/approvals')).body.items).toEqual([]);

    // Mia now delegates to Ada herself: Ada still may not approve her own request.
    expect((await as(mia, 'POST', '/approvals/delegations', { delegateId: ada, until })).status).toBe(201);
    const own = await as(ada, 'POST', '/requests', { entitlement: dbRead, justification: 'my own', duration: 'PT1H' });
    const self = await as(ada, 'POST', `/requests/${own.body.requestId}/approve`, {});
    expect([self.status, self.body.type]).toEqual([403, 'urn:custos:problem:self-approval']);
    expect((await as(ada, 'GET', `/requests/${own.body.requestId}`)).body.steps[0]).toMatchObject({ status: 'pending', decisions: [] });
    expect((await as(ada, 'GET', '/approvals')).body.items).toEqual([]);
  });

  it('breaks the glass: Ada takes an entitlement marked breakGlass at once (GET /check allows it), the security approver reviews it afterwards; Ada may not, nor without mfa', async () => {
    const sec = await api.hire('Sec', { department: api.key('Security') });
    const security = await api.asAdmin('POST', '/catalog/entitlements', { key: 'custos:security', application: 'custos', name: 'Security approver', privileged: false, risk: 'high' });
    expect([201, 409]).toContain(security.status);
    await eventually(() => api.asAdmin('POST', `/access/${sec}/grant`, { entitlement: 'custos:security', reason: 'on call' }), { accept: (r) => r.status < 300, what: 'the entitlement service to know Sec', timeoutMs: 30_000, intervalMs: 250 });
    // Defined after the security grant: once the request service knows it, it knows the security approver too.
    const glass = api.key('db:glass');
    expect((await api.asAdmin('POST', '/catalog/entitlements', { key: glass, application: 'db', name: glass, privileged: true, risk: 'critical', ownerId: olga, breakGlass: true })).status).toBe(201);

    const used = await eventually(() => as(ada, 'POST', '/break-glass', { entitlement: glass, justification: 'INC-1: orders database down', duration: 'PT15M' }, ['pwd', 'mfa']), {
      accept: (r) => r.status === 201,
      what: 'the request service to know the break-glass entitlement',
      timeoutMs: 30_000,
      intervalMs: 250,
    });
    expect(used.body).toMatchObject({ status: 'awaiting-review', identityId: ada, entitlement: glass, duration: 'PT15M', privileged: true, reviewerIds: [sec], grantId: expect.any(String) });
    const id = used.body.breakGlassId as string;
    const glassCheck = await eventually(() => api.check(ada, glass), { accept: (c) => c.allowed, what: 'GET /check to allow the break-glass grant', timeoutMs: 10_000, intervalMs: 20 });
    expect(glassCheck).toMatchObject({ grantIds: [used.body.grantId], expiresAt: used.body.expiresAt });
    expect((await api.grants(ada)).find((g) => g.entitlement === glass)).toMatchObject({ source: 'break-glass', grantId: used.body.grantId });

    const withoutMfa = await as(ada, 'POST', '/break-glass', { entitlement: glass, justification: 'again' }, ['pwd']);
    expect([withoutMfa.status, withoutMfa.body.type]).toEqual([403, 'urn:custos:problem:step-up-required']);
    const notMarked = await as(ada, 'POST', '/break-glass', { entitlement: dbRead, justification: 'again' }, ['pwd', 'mfa']);
    expect([notMarked.status, notMarked.body.type]).toEqual([422, 'urn:custos:problem:break-glass-not-allowed']);
    const tooLong = await as(ada, 'POST', '/break-glass', { entitlement: glass, justification: 'again', duration: 'PT2H' }, ['pwd', 'mfa']);
    expect([tooLong.status, tooLong.body.type, tooLong.body.maxDuration]).toEqual([422, 'urn:custos:problem:duration-exceeds-maximum', 'PT1H']);

    const byAda = await as(ada, 'POST', `/break-glass/${id}/review`, { outcome: 'justified', comment: 'it was me' }, ['pwd', 'mfa']);
    expect([byAda.status, byAda.body.type]).toEqual([403, 'urn:custos:problem:self-approval']);
    const bySecWithoutMfa = await as(sec, 'POST', `/break-glass/${id}/review`, { outcome: 'justified', comment: 'fine' }, ['pwd']);
    expect([bySecWithoutMfa.status, bySecWithoutMfa.body.type]).toEqual([403, 'urn:custos:problem:step-up-required']);
    const reviewed = await as(sec, 'POST', `/break-glass/${id}/review`, { outcome: 'justified', comment: 'INC-1 confirmed' }, ['pwd', 'mfa']);
    expect([reviewed.status, reviewed.body.status, reviewed.body.review]).toEqual([200, 'reviewed', { reviewerId: sec, outcome: 'justified', comment: 'INC-1 confirmed', reviewedAt: expect.any(String) }]);
    expect((await as(ada, 'GET', `/break-glass/${id}`)).body.status).toBe('reviewed');
    expect((await as(api.key('stranger'), 'GET', `/break-glass/${id}`)).status).toBe(403);
  });
});
