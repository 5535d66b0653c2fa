import { eventually } from '@custos/platform/testing';
import { startEmbedded } from './support/deployment';
import { EntitlementApi, type Employee } from './support/entitlement-api';

type Answer = { status: number; body: any };

/**
 * The main path of access requests against `npm start` (the all-in-one on the embedded store and
 * bus, the development issuer): ask, approve by manager then owner, granted just in time and
 * allowed by GET /check, extended, given back; a bad request writes nothing, not even to the
 * audit log; and a just-in-time grant whose end passes while Custos is down ends once it is up.
 */
describe('access requests against npm start: the main path, extension, nothing written on bad input, expiry across a restart', () => {
  let deployment: Awaited<ReturnType<typeof startEmbedded>>;
  let api: EntitlementApi;
  let ada: string, mia: string, olga: string;
  let dbRead: string;

  const as = async (sub: string, method: string, path: string, body?: unknown): Promise<Answer> => api.client.call(method, path, { token: await api.client.token(sub), body });
  const requestOf = async (requestId: string, accept: (body: any) => boolean, what: string) =>
    (await eventually(() => as(ada, 'GET', `/requests/${requestId}`), { accept: (r) => r.status === 200 && accept(r.body), what, timeoutMs: 30_000, intervalMs: 50 })).body;
  const checkWhen = (entitlement: string, accept: (check: { allowed: boolean; expiresAt?: string }) => boolean, what: string) =>
    eventually(() => api.check(ada, entitlement), { accept, what, timeoutMs: 10_000, intervalMs: 20 });
  /** Every audit entry about Ada (the log follows the stores a moment behind). */
  const auditOfAda = async () => (await api.client.call('GET', `/audit/events?identityId=${ada}&limit=1000`, { token: await api.auditor() })).body.items as Array<{ name: string; data: any }>;

  beforeAll(async () => {
    deployment = await startEmbedded();
    api = new EntitlementApi(deployment.client);
    mia = await api.hire('Mia', { department: 'Data' });
    olga = await api.hire('Olga', { department: 'Data' });
    ada = await api.hire('Ada', { department: 'Data', managerEmployeeId: `E-Mia-${api.run}` } as Partial<Employee>);
    dbRead = api.key('db:read');
    const policy = { steps: [{ kind: 'manager', required: 1 }, { kind: 'owner', required: 1 }] };
    const defined = await api.asAdmin('POST', '/catalog/entitlements', { key: dbRead, application: 'db', name: 'Read the database', privileged: false, risk: 'medium', ownerId: olga, maxDuration: 'PT8H', approvalPolicy: policy });
    expect(defined.status).toBe(201);
  }, 120_000);

  afterAll(async () => {
    await deployment?.stop();
  });

  it('asks, approves by manager then owner, grants just in time (GET /check allows), extends the same grant, and gives it back', async () => {
    const submitted = await eventually(() => as(ada, 'POST', '/requests', { entitlement: dbRead, justification: 'quarterly report', duration: 'PT1H' }), {
      accept: (r) => r.status === 201,
      what: 'the request service to know Ada and the entitlement',
      timeoutMs: 30_000,
    });
    const requestId = submitted.body.requestId as string;
    expect(submitted.body.steps).toMatchObject([{ kind: 'manager', approverIds: [mia], status: 'pending' }, { kind: 'owner', approverIds: [olga], status: 'waiting' }]);
    const inbox = await as(mia, 'GET', '/approvals');
    expect(inbox.body.items).toEqual([
      expect.objectContaining({ requestId, round: 0, beneficiary: expect.objectContaining({ identityId: ada, name: 'Ada Tester', department: 'Data', managerId: mia, managerName: 'Mia Tester' }), beneficiaryAccess: [] }),
    ]);
    expect((await as(mia, 'POST', `/requests/${requestId}/approve`, { comment: 'fine' })).body.status).toBe('pending');
    expect((await as(olga, 'POST', `/requests/${requestId}/approve`, {})).body.status).toBe('approved');
    const fulfilled = await requestOf(requestId, (body) => body.status === 'fulfilled', 'the request to be fulfilled');
    const allowed = await checkWhen(dbRead, (c) => c.allowed, 'GET /check to allow the grant');
    expect(allowed).toMatchObject({ grantIds: [fulfilled.grantId], expiresAt: fulfilled.expiresAt });

    const extension = await as(ada, 'POST', `/requests/${requestId}/extend`, { duration: 'PT3H', justification: 'the report grew' });
    expect([extension.status, extension.body.extensions?.[0]?.status]).toEqual([200, 'pending']);
    const item = (await as(mia, 'GET', '/approvals')).body.items.find((i: { requestId: string }) => i.requestId === requestId);
    expect(item).toMatchObject({ round: 1, extension: { duration: 'PT3H', currentExpiresAt: fulfilled.expiresAt }, beneficiaryAccess: [expect.objectContaining({ grantId: fulfilled.grantId })] });
    await as(mia, 'POST', `/requests/${requestId}/approve`, {});
    await as(olga, 'POST', `/requests/${requestId}/approve`, {});
    const extended = await requestOf(requestId, (body) => body.extensions?.[0]?.status === 'fulfilled', 'the extension to be granted');
    expect([extended.grantId, Date.parse(extended.expiresAt) > Date.parse(fulfilled.expiresAt)]).toEqual([fulfilled.grantId, true]);
    await checkWhen(dbRead, (c) => c.expiresAt === extended.expiresAt, 'GET /check to show the later end');

    expect((await as(ada, 'POST', `/requests/${requestId}/revoke`, { reason: 'done' })).status).toBe(202);
    await requestOf(requestId, (body) => body.status === 'revoked', 'the request to show revoked');
    await checkWhen(dbRead, (c) => !c.allowed, 'GET /check to deny the access given back');
  });

  it('writes nothing for bad input: neither the requests nor the audit log change, apart from a refused decision\'s record', async () => {
    const auditor = await api.auditor();
    const audit = async (query: string) => (await api.client.call('GET', `/audit/events?${query}&limit=1000`, { token: auditor })).body.items as Array<{ seq: number; name: string; data: any }>;
    const loggedOf = (requestId: string, name: string) =>
      eventually(() => audit(`type=${name}`), { accept: (items) => items.some((e) => e.data?.requestId === requestId), what: `the audit log to show ${name} of ${requestId}`, timeoutMs: 20_000 });
    // One pending request, then a mark in the log: everything before it has been logged once the log shows this cancel.
    const pending = await as(ada, 'POST', '/requests', { entitlement: dbRead, justification: 'pending' });
    const marker = await as(ada, 'POST', '/requests', { entitlement: dbRead, justification: 'marker' });
    expect((await as(ada, 'POST', `/requests/${marker.body.requestId}/cancel`, {})).status).toBe(200);
    const mark = (await loggedOf(marker.body.requestId, 'RequestCancelled')).find((e) => e.data?.requestId === marker.body.requestId)!.seq;
    const requestsBefore = (await as(ada, 'GET', `/requests?requesterId=${ada}`)).body.items.map((r: { requestId: string }) => r.requestId);

    const refusals: Array<[Record<string, unknown>, number, string]> = [
      [{ entitlement: dbRead }, 400, 'validation'],
      [{ entitlement: api.key('ghost'), justification: 'x' }, 422, 'unknown-entitlement'],
      [{ role: api.key('ghost-role'), justification: 'x' }, 422, 'unknown-role'],
      [{ entitlement: dbRead, justification: 'x', duration: 'PT9H' }, 422, 'duration-exceeds-maximum'],
    ];
    for (const [body, status, code] of refusals) {
      const refused = await as(ada, 'POST', '/requests', body);
      expect([refused.status, refused.body.type]).toEqual([status, `urn:custos:problem:${code}`]);
    }
    // A decision on a request no longer pending (409) writes nothing; one by someone not eligible (403) only its recorded refusal.
    const late = await as(mia, 'POST', `/requests/${marker.body.requestId}/approve`, {});
    expect([late.status, late.body.type]).toEqual([409, 'urn:custos:problem:request-not-pending']);
    const ineligible = await as(olga, 'POST', `/requests/${pending.body.requestId}/approve`, {});
    expect([ineligible.status, ineligible.body.type]).toEqual([403, 'urn:custos:problem:not-eligible-approver']);
    // Then one that is written: once the log shows it, it would show anything the refusals had written.
    const after = await as(ada, 'POST', '/requests', { entitlement: dbRead, justification: 'after' });
    await loggedOf(after.body.requestId, 'ApprovalRequested');
    const since = (await audit(`after=${mark}`)).filter((e) => e.data?.requestId !== after.body.requestId);
    expect(since.map((e) => [e.name, e.data?.requestId, e.data?.approverId, e.data?.reason])).toEqual([['DecisionRefused', pending.body.requestId, olga, 'not-eligible-approver']]);
    expect((await as(ada, 'GET', `/requests?requesterId=${ada}`)).body.items.map((r: { requestId: string }) => r.requestId)).toEqual([after.body.requestId, ...requestsBefore]);
    expect((await as(ada, 'GET', `/requests/${pending.body.requestId}`)).body.steps[0]).toMatchObject({ status: 'pending', decisions: [] });
    for (const request of [after, pending]) await as(ada, 'POST', `/requests/${request.body.requestId}/cancel`, {});
  });

  it('ends a just-in-time grant once when its end passes while Custos is down, and the request shows ended', async () => {
    const { body } = await as(ada, 'POST', '/requests', { entitlement: dbRead, justification: 'short job', duration: 'PT6S' });
    await as(mia, 'POST', `/requests/${body.requestId}/approve`, {});
    await as(olga, 'POST', `/requests/${body.requestId}/approve`, {});
    const granted = await requestOf(body.requestId, (b) => b.status === 'fulfilled', 'the grant');
    await deployment.services.custos.stop();
    const wait = Date.parse(granted.expiresAt) + 1_000 - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    await deployment.restart();
    // The development issuer signs with a new key after a restart: tokens are asked for again.
    api = new EntitlementApi(deployment.client);
    expect((await api.check(ada, dbRead)).allowed).toBe(false);
    const ended = await requestOf(body.requestId, (b) => b.status === 'ended', 'the request to end with its grant');
    expect(ended.grants).toEqual([expect.objectContaining({ grantId: granted.grantId, endedAt: expect.any(String) })]);
    const revoked = await eventually(auditOfAda, { accept: (items) => items.some((e) => e.name === 'AccessRevoked' && e.data?.grantId === granted.grantId), what: 'the expiry in the audit log', timeoutMs: 20_000 });
    expect(revoked.filter((e) => e.name === 'AccessRevoked' && e.data?.grantId === granted.grantId).map((e) => e.data.reason)).toEqual(['expired']);
  }, 120_000);
});
