import { eventually } from '@custos/platform/testing';
import { startDistributed, type Deployment } from './support/deployment';
import { EntitlementApi, type Employee } from './support/entitlement-api';
import { startProcess } from './support/processes';

type Answer = { status: number; body: any };

/**
 * The approval scenarios that cross services, one row each, end to end: the four services as
 * separate processes over NATS and PostgreSQL. Each row says what it should cause and checks it
 * where users see it: the request (GET /requests/{id}), the approver's inbox, GET /check, the
 * audit log. The rows share one deployment and run in order; each uses its own entitlements.
 * The decider's scenario table (libs/request/domain/src/approval-scenarios.spec.ts) has every
 * row, those that need no other service included.
 */
describe('approval scenarios across the services (NATS, PostgreSQL, separate processes)', () => {
  let deployment: Deployment;
  /** Break-glass reviews fall due this soon here (CUSTOS_BREAK_GLASS_REVIEW_WINDOW), so that one can escalate within the test. */
  const REVIEW_WINDOW = 'PT8S';
  let api: EntitlementApi;
  const ids: Record<string, string> = {};
  const keys: Record<string, string> = {};
  const MFA = ['pwd', 'mfa'];

  const as = async (who: string, method: string, path: string, body?: unknown, amr?: string[]): Promise<Answer> =>
    api.client.call(method, path, { token: await api.client.token(ids[who] ?? who, [], amr), body });
  /** A request the request service accepts once it knows the identities and the entitlement (their events may be on their way). */
  const submit = async (who: string, body: Record<string, unknown>, accept: (r: Answer) => boolean = (r) => r.status === 201): Promise<Answer> =>
    eventually(() => as(who, 'POST', '/requests', body), { accept, what: `the request service to take ${JSON.stringify(body)}`, timeoutMs: 30_000, intervalMs: 200 });
  const requestOf = async (requestId: string, accept: (body: any) => boolean, what: string, timeoutMs = 30_000) =>
    (await eventually(() => api.asAdmin('GET', `/requests/${requestId}`), { accept: (r) => r.status === 200 && accept(r.body), what, timeoutMs, intervalMs: 100 })).body;
  const approve = (who: string, requestId: string, body: Record<string, unknown> = {}, amr?: string[]) => as(who, 'POST', `/requests/${requestId}/approve`, body, amr);
  const problem = (r: Answer) => [r.status, r.body?.type];
  /** GET /check once its view has applied what another service wrote a moment ago (it follows the store, a few ms behind). */
  const checkWhen = (identityId: string, entitlement: string, allowed: boolean) =>
    eventually(() => api.check(identityId, entitlement), { accept: (c) => c.allowed === allowed, what: `GET /check ${entitlement} to answer allowed: ${allowed}`, timeoutMs: 10_000, intervalMs: 20 });
  const fulfilled = (requestId: string) => requestOf(requestId, (body) => body.status === 'fulfilled', `request ${requestId} to be fulfilled`);

  beforeAll(async () => {
    deployment = await startDistributed('custos_req_scenarios', { request: { CUSTOS_BREAK_GLASS_REVIEW_WINDOW: REVIEW_WINDOW } });
    api = new EntitlementApi(deployment.client);
    for (const name of ['Max', 'Olga', 'G1', 'G2', 'G3', 'Nomad']) ids[name] = await api.hire(name, { department: api.key('Ops') });
    for (const name of ['Mia', 'Sec']) ids[name] = await api.hire(name, { department: api.key('Ops'), managerEmployeeId: `E-Max-${api.run}` } as Partial<Employee>);
    for (const name of ['Ada', 'Cyd', 'Sam']) ids[name] = await api.hire(name, { department: api.key('Ops'), managerEmployeeId: `E-Mia-${api.run}` } as Partial<Employee>);

    // The security approver: a holder of custos:security (defined once per database).
    const security = await api.asAdmin('POST', '/catalog/entitlements', { key: 'custos:security', application: 'custos', name: 'Security approver', privileged: false, risk: 'high' });
    expect([201, 409]).toContain(security.status);
    await eventually(() => api.asAdmin('POST', `/access/${ids.Sec}/grant`, { entitlement: 'custos:security', reason: 'security team' }), {
      accept: (r) => r.status === 202,
      what: 'the entitlement service to know Sec',
      timeoutMs: 30_000,
      intervalMs: 250,
    });

    const manager = { steps: [{ kind: 'manager', required: 1 }] };
    const managerThenOwner = { steps: [{ kind: 'manager', required: 1 }, { kind: 'owner', required: 1 }] };
    const define = async (name: string, extra: Record<string, unknown>) => {
      keys[name] = api.key(`db:${name}`);
      const defined = await api.asAdmin('POST', '/catalog/entitlements', { key: keys[name], application: 'db', name, privileged: false, risk: 'medium', ownerId: ids.Olga, ...extra });
      expect([defined.status, defined.body?.type]).toEqual([201, undefined]);
    };
    await define('single', { approvalPolicy: manager });
    await define('standard', { approvalPolicy: managerThenOwner });
    await define('group', { approvalPolicy: { steps: [{ kind: 'group', approverIds: [ids.G1, ids.G2, ids.G3], required: 2 }] } });
    await define('group-with-ada', { approvalPolicy: { steps: [{ kind: 'group', approverIds: [ids.Ada, ids.G1, ids.G2], required: 1 }] } });
    await define('priv', { privileged: true, risk: 'critical', maxDuration: 'PT1H' });
    await define('held', { approvalPolicy: manager });
    await define('prevented', { approvalPolicy: manager });
    await define('soft-held', { approvalPolicy: manager });
    await define('soft', { approvalPolicy: managerThenOwner });
    await define('late', { approvalPolicy: manager });
    await define('escalating', { approvalPolicy: manager, approvalSla: 'PT5S' });
    await define('lapsing', { approvalPolicy: manager, approvalSla: 'PT2S' });
    await define('jit', { approvalPolicy: manager, maxDuration: 'PT1H' });
    await define('extensible', { approvalPolicy: manager, maxDuration: 'PT1H' });
    await define('glass', { privileged: true, risk: 'critical', breakGlass: true });
    await define('glass-late', { privileged: true, risk: 'critical', breakGlass: true });
    await define('role-a', { approvalPolicy: manager });
    await define('role-b', { approvalPolicy: managerThenOwner, maxDuration: 'PT2H' });
    keys.role = api.key('db-team');
    await api.defineRole(keys.role, [keys['role-a'], keys['role-b']]);
    await api.defineSodPolicy(api.key('held-vs-prevented'), [[keys.held], [keys.prevented]], 'prevent');
    await api.defineSodPolicy(api.key('soft-held-vs-soft'), [[keys['soft-held']], [keys.soft]], 'approve');
    for (const key of [keys.held, keys['soft-held']]) {
      expect((await eventually(() => api.asAdmin('POST', `/access/${ids.Sam}/grant`, { entitlement: key, reason: 'setup' }), { accept: (r) => r.status === 202, what: 'Sam known', timeoutMs: 30_000 })).status).toBe(202);
    }
    // Routed once the request service knows the security approver: a privileged request shows Sec on its security step.
    const probe = await submit('Ada', { entitlement: keys.priv, justification: 'probe' }, (r) => r.status === 201 && r.body.steps[2]?.approverIds?.includes(ids.Sec));
    expect((await as('Ada', 'POST', `/requests/${probe.body.requestId}/cancel`, {})).status).toBe(200);
  }, 240_000);

  afterAll(async () => {
    await deployment?.stop();
  }, 60_000);

  const scenarios: Array<[string, () => Promise<void>]> = [
    ['single approver: the manager alone approves, the entitlement service grants, GET /check allows', async () => {
      const { body } = await submit('Ada', { entitlement: keys.single, justification: 'one step', duration: 'PT30M' });
      expect(body.steps).toMatchObject([{ kind: 'manager', approverIds: [ids.Mia], required: 1, status: 'pending' }]);
      expect((await approve('Mia', body.requestId, { comment: 'fine' })).body.status).toBe('approved');
      const done = await fulfilled(body.requestId);
      expect(await checkWhen(ids.Ada, keys.single, true)).toMatchObject({ grantIds: [done.grantId], expiresAt: done.expiresAt });
    }],

    ['N-of-M: two of the group step\'s three approvers must approve; one approval leaves it pending', async () => {
      const { body } = await submit('Ada', { entitlement: keys.group, justification: 'two of three' });
      expect(body.steps).toMatchObject([{ kind: 'group', approverIds: [ids.G1, ids.G2, ids.G3], required: 2 }]);
      const first = await approve('G1', body.requestId);
      expect([first.body.status, first.body.steps[0].status]).toEqual(['pending', 'pending']);
      expect((await approve('G3', body.requestId)).body.status).toBe('approved');
      await fulfilled(body.requestId);
      await checkWhen(ids.Ada, keys.group, true);
    }],

    ['deny at the first step: the manager denies, the request is denied and nothing is granted', async () => {
      const { body } = await submit('Cyd', { entitlement: keys.standard, justification: 'deny me' });
      const denied = await as('Mia', 'POST', `/requests/${body.requestId}/deny`, { comment: 'not for this project' });
      expect([denied.status, denied.body.status, denied.body.steps.map((s: { status: string }) => s.status)]).toEqual([200, 'denied', ['denied', 'closed']]);
      expect(problem(await approve('Olga', body.requestId))).toEqual([409, 'urn:custos:problem:request-not-pending']);
      await checkWhen(ids.Cyd, keys.standard, false);
    }],

    ['deny at the last step: the owner denies after the manager approved', async () => {
      const { body } = await submit('Cyd', { entitlement: keys.standard, justification: 'deny me later' });
      await approve('Mia', body.requestId);
      const denied = await as('Olga', 'POST', `/requests/${body.requestId}/deny`, { comment: 'owner says no' });
      expect([denied.body.status, denied.body.steps.map((s: { status: string }) => s.status)]).toEqual(['denied', ['approved', 'denied']]);
      expect(denied.body.steps[1].decisions).toEqual([{ approverId: ids.Olga, decision: 'deny', comment: 'owner says no', decidedAt: expect.any(String) }]);
    }],

    ['self-approval refused directly: the beneficiary approving their own request is 403, and the refusal is in the audit log', async () => {
      const { body } = await submit('Ada', { entitlement: keys.standard, justification: 'mine' });
      expect(problem(await approve('Ada', body.requestId))).toEqual([403, 'urn:custos:problem:self-approval']);
      expect((await as('Ada', 'GET', `/requests/${body.requestId}`)).body.steps[0]).toMatchObject({ status: 'pending', decisions: [] });
      const auditor = await api.auditor();
      await eventually(async () => (await api.client.call('GET', '/audit/events?type=DecisionRefused&limit=1000', { token: auditor })).body?.items ?? [], {
        accept: (events: any[]) => events.some((e) => e.data?.requestId === body.requestId && e.data?.approverId === ids.Ada && e.data?.reason === 'self-approval'),
        what: 'the recorded refusal in the audit log',
        timeoutMs: 20_000,
        intervalMs: 200,
      });
    }],

    ['self-approval refused through a group: a group member who raised the request is left out of the step, and 403 when they try', async () => {
      const { body } = await submit('Ada', { entitlement: keys['group-with-ada'], justification: 'my group' });
      expect(body.steps[0].approverIds).toEqual([ids.G1, ids.G2]);
      expect(problem(await approve('Ada', body.requestId))).toEqual([403, 'urn:custos:problem:self-approval']);
    }],

    ['self-approval refused by delegation: the manager\'s delegate who benefits is 403, the step still pending', async () => {
      const until = new Date(Date.now() + 3600_000).toISOString();
      const delegation = await eventually(() => as('Mia', 'POST', '/approvals/delegations', { delegateId: ids.Ada, until }), { accept: (r) => r.status === 201, what: 'the delegation', timeoutMs: 30_000 });
      try {
        const { body } = await submit('Ada', { entitlement: keys.single, justification: 'through Mia' });
        expect(problem(await approve('Ada', body.requestId))).toEqual([403, 'urn:custos:problem:self-approval']);
        expect((await as('Ada', 'GET', '/approvals')).body.items).toEqual([]);
      } finally {
        expect((await as('Mia', 'DELETE', `/approvals/delegations/${delegation.body.delegationId}`)).status).toBe(200);
      }
    }],

    ['ineligible approver refused: the owner deciding the manager\'s step is 403 not-eligible-approver', async () => {
      const { body } = await submit('Cyd', { entitlement: keys.standard, justification: 'order matters' });
      expect(problem(await approve('Olga', body.requestId))).toEqual([403, 'urn:custos:problem:not-eligible-approver']);
      expect(problem(await approve('G1', body.requestId))).toEqual([403, 'urn:custos:problem:not-eligible-approver']);
    }],

    ['privileged without MFA refused: an approver of a privileged request signed in without mfa is 403 step-up-required; with mfa the approval counts', async () => {
      const { body } = await submit('Ada', { entitlement: keys.priv, justification: 'maintenance window', duration: 'PT30M' });
      expect(body.steps.map((s: { kind: string }) => s.kind)).toEqual(['manager', 'owner', 'security']);
      const withoutMfa = await approve('Mia', body.requestId, {}, ['pwd']);
      expect(problem(withoutMfa)).toEqual([403, 'urn:custos:problem:step-up-required']);
      expect(withoutMfa.body.detail).toMatch(/mfa|multi-factor|step/i);
      expect((await approve('Mia', body.requestId, {}, MFA)).body.steps[0].status).toBe('approved');
      expect((await approve('Olga', body.requestId, {}, MFA)).body.steps[1].status).toBe('approved');
      expect(problem(await approve('Sec', body.requestId, {}, ['pwd']))).toEqual([403, 'urn:custos:problem:step-up-required']);
      expect((await approve('Sec', body.requestId, {}, MFA)).body.status).toBe('approved');
      await fulfilled(body.requestId);
      await checkWhen(ids.Ada, keys.priv, true);
    }],

    ['SoD prevent: a request that would create a prevent conflict is 422 naming the entitlements, and nothing is written', async () => {
      const before = (await as('Sam', 'GET', `/requests?requesterId=${ids.Sam}`)).body.items.length;
      const refused = await submit('Sam', { entitlement: keys.prevented, justification: 'both sides' }, (r) => r.status !== 422 || r.body?.type !== 'urn:custos:problem:unknown-entitlement');
      expect(problem(refused)).toEqual([422, 'urn:custos:problem:sod-violation']);
      expect(refused.body.entitlements).toEqual(expect.arrayContaining([keys.held, keys.prevented]));
      expect((await as('Sam', 'GET', `/requests?requesterId=${ids.Sam}`)).body.items).toHaveLength(before);
    }],

    ['SoD with exception: an approve conflict adds a security step whose approval needs an exception justification, recorded with the grant', async () => {
      const { body } = await submit('Sam', { entitlement: keys.soft, justification: 'cover for a colleague' });
      expect(body.steps).toMatchObject([{ kind: 'manager' }, { kind: 'owner' }, { kind: 'security', approverIds: [ids.Sec], sodConflicts: [expect.objectContaining({ mode: 'approve' })] }]);
      await approve('Mia', body.requestId);
      await approve('Olga', body.requestId);
      const unjustified = await approve('Sec', body.requestId);
      expect(unjustified.status).toBe(400);
      expect(unjustified.body.errors.map((e: { field: string }) => e.field)).toContain('exceptionJustification');
      const justified = await approve('Sec', body.requestId, { exceptionJustification: 'two weeks, reviewed weekly' });
      expect(justified.body.steps[2].decisions[0]).toMatchObject({ approverId: ids.Sec, exceptionJustification: 'two weeks, reviewed weekly' });
      await fulfilled(body.requestId);
      await checkWhen(ids.Sam, keys.soft, true);
      const recorded = await api.auditEventsWhen(ids.Sam, 'SodExceptionRecorded', (events) => events.some((e) => e.data?.entitlement === keys.soft), 'the SoD exception beside the grant');
      expect(recorded.find((e) => e.data?.entitlement === keys.soft).data).toMatchObject({ reason: 'two weeks, reviewed weekly', approvedBy: ids.Sec });
    }],

    ['refused grant: a prevent SoD policy added after the request was raised makes the entitlement service refuse the approved grant; the request ends refused, saying why', async () => {
      const { body } = await submit('Sam', { entitlement: keys.late, justification: 'before the policy' });
      await api.defineSodPolicy(api.key('held-vs-late'), [[keys.held], [keys.late]], 'prevent');
      expect((await approve('Mia', body.requestId)).body.status).toBe('approved');
      const refused = await requestOf(body.requestId, (b) => b.status === 'refused', 'the request to be refused');
      expect(refused).toMatchObject({ fulfilmentRefusal: { code: 'sod-violation', reason: expect.stringContaining(keys.late) }, refusedAt: expect.any(String) });
      expect(refused.grantId).toBeUndefined();
      await checkWhen(ids.Sam, keys.late, false);
    }],

    ['escalation: a step past its SLA escalates to the approver\'s manager, who then approves it', async () => {
      const { body } = await submit('Ada', { entitlement: keys.escalating, justification: 'nobody answers' });
      expect(body).toMatchObject({ approvalSla: 'PT5S', steps: [{ approverIds: [ids.Mia] }] });
      expect(problem(await approve('Max', body.requestId))).toEqual([403, 'urn:custos:problem:not-eligible-approver']);
      await requestOf(body.requestId, (b) => (b.steps[0].escalatedTo ?? []).includes(ids.Max), 'the step to escalate to Max', 30_000);
      const inbox = await eventually(() => as('Max', 'GET', '/approvals'), { accept: (r) => r.body.items.some((i: { requestId: string }) => i.requestId === body.requestId), what: 'Max\'s inbox', timeoutMs: 10_000 });
      expect(inbox.body.items.find((i: { requestId: string }) => i.requestId === body.requestId)).toMatchObject({ stepKind: 'manager', sla: 'PT5S' });
      expect((await approve('Max', body.requestId, { comment: 'for Mia' })).body.status).toBe('approved');
      await fulfilled(body.requestId);
    }],

    ['expiry: a request nobody decides expires after a second SLA, and can no longer be approved', async () => {
      const { body } = await submit('Ada', { entitlement: keys.lapsing, justification: 'forgotten' });
      await requestOf(body.requestId, (b) => b.status === 'expired', 'the request to expire', 30_000);
      expect(problem(await approve('Mia', body.requestId))).toEqual([409, 'urn:custos:problem:request-not-pending']);
    }],

    ['delegation: the approver away hands their approvals to a colleague, who approves in their place (recorded on their behalf)', async () => {
      const until = new Date(Date.now() + 3600_000).toISOString();
      const delegation = await as('Mia', 'POST', '/approvals/delegations', { delegateId: ids.Cyd, until });
      expect(delegation.status).toBe(201);
      try {
        const { body } = await submit('Sam', { entitlement: keys.single, justification: 'while Mia is away' });
        // Mia's other pending items (of earlier rows) are in Cyd's inbox too, each on her behalf.
        const items = (await as('Cyd', 'GET', '/approvals')).body.items as Array<{ requestId: string; onBehalfOf?: string }>;
        expect(items.find((item) => item.requestId === body.requestId)).toMatchObject({ onBehalfOf: ids.Mia, stepKind: 'manager' });
        expect(items.every((item) => item.onBehalfOf === ids.Mia)).toBe(true);
        const byCyd = await approve('Cyd', body.requestId, { comment: 'for Mia' });
        expect(byCyd.body.steps[0].decisions).toEqual([{ approverId: ids.Cyd, onBehalfOf: ids.Mia, decision: 'approve', comment: 'for Mia', decidedAt: expect.any(String) }]);
        await fulfilled(body.requestId);
      } finally {
        await as('Mia', 'DELETE', `/approvals/delegations/${delegation.body.delegationId}`);
      }
    }],

    ['a step with no approvers routed to security: a beneficiary without a manager has the security approvers decide the manager step', async () => {
      const { body } = await submit('Nomad', { entitlement: keys.standard, justification: 'no manager' });
      expect(body.steps).toMatchObject([{ kind: 'security', routedFrom: 'manager', approverIds: [ids.Sec] }, { kind: 'owner', approverIds: [ids.Olga] }]);
      await approve('Sec', body.requestId);
      await approve('Olga', body.requestId);
      await fulfilled(body.requestId);
    }],

    ['break-glass with its review completed: granted at once, reviewed by the security approver afterwards', async () => {
      const used = await eventually(() => as('Ada', 'POST', '/break-glass', { entitlement: keys.glass, justification: 'INC-7: database down', duration: 'PT10M' }, MFA), {
        accept: (r) => r.status === 201,
        what: 'the break-glass use',
        timeoutMs: 30_000,
      });
      expect(used.body).toMatchObject({ status: 'awaiting-review', reviewerIds: [ids.Sec], grantId: expect.any(String) });
      await checkWhen(ids.Ada, keys.glass, true);
      const reviewed = await as('Sec', 'POST', `/break-glass/${used.body.breakGlassId}/review`, { outcome: 'justified', comment: 'INC-7 confirmed' }, MFA);
      expect([reviewed.status, reviewed.body.status, reviewed.body.review?.outcome]).toEqual([200, 'reviewed', 'justified']);
    }],

    ['break-glass with its review escalated: not reviewed within the window, it escalates to the security approver\'s manager, who completes it', async () => {
      const used = await as('Cyd', 'POST', '/break-glass', { entitlement: keys['glass-late'], justification: 'INC-8: queue stuck', duration: 'PT10M' }, MFA);
      expect([used.status, used.body.reviewerIds]).toEqual([201, [ids.Sec]]);
      expect(Date.parse(used.body.reviewDueAt) - Date.parse(used.body.usedAt)).toBe(8_000);
      expect(problem(await as('Max', 'POST', `/break-glass/${used.body.breakGlassId}/review`, { outcome: 'justified', comment: 'too early' }, MFA))).toEqual([403, 'urn:custos:problem:not-eligible-approver']);
      const escalated = await eventually(() => as('Max', 'GET', `/break-glass/${used.body.breakGlassId}`), {
        accept: (r) => r.status === 200 && (r.body.escalatedTo ?? []).includes(ids.Max),
        what: 'the review to escalate to Max',
        timeoutMs: 40_000,
        intervalMs: 250,
      });
      expect(escalated.body).toMatchObject({ status: 'awaiting-review', escalatedAt: expect.any(String) });
      const reviewed = await as('Max', 'POST', `/break-glass/${used.body.breakGlassId}/review`, { outcome: 'not-justified', comment: 'no incident on record' }, MFA);
      expect([reviewed.status, reviewed.body.status, reviewed.body.review]).toEqual([200, 'reviewed', expect.objectContaining({ reviewerId: ids.Max, outcome: 'not-justified' })]);
    }],

    ['role: a request for a role is routed through the strictest of its entitlements\' policies and grants them all, each with the role', async () => {
      const { body } = await submit('Cyd', { role: keys.role, justification: 'joining the db team', duration: 'PT1H' });
      expect(body).toMatchObject({ target: { kind: 'role', key: keys.role }, entitlements: [keys['role-a'], keys['role-b']], maxDuration: 'PT2H' });
      expect(body.steps).toMatchObject([{ kind: 'manager', approverIds: [ids.Mia] }, { kind: 'owner', approverIds: [ids.Olga] }]);
      const inbox = await as('Mia', 'GET', '/approvals');
      expect(inbox.body.items.find((i: { requestId: string }) => i.requestId === body.requestId).entitlement).toMatchObject({ kind: 'role', key: keys.role, entitlements: [keys['role-a'], keys['role-b']], risk: 'medium' });
      await approve('Mia', body.requestId);
      await approve('Olga', body.requestId);
      const done = await fulfilled(body.requestId);
      expect(done.grants.map((g: { entitlement: string }) => g.entitlement)).toEqual([keys['role-a'], keys['role-b']]);
      const grants = await api.grantsWhen(ids.Cyd, (held) => held.filter((g) => g.role === keys.role).length === 2, 'the role\'s grants');
      expect(grants.filter((g) => g.role === keys.role).map((g) => [g.entitlement, g.source, g.expiresAt])).toEqual([
        [keys['role-a'], 'request', done.expiresAt],
        [keys['role-b'], 'request', done.expiresAt],
      ]);
      for (const key of [keys['role-a'], keys['role-b']]) await checkWhen(ids.Cyd, key, true);
    }],

    ['role: an unknown role is 422 naming it, and nothing is written', async () => {
      const refused = await as('Cyd', 'POST', '/requests', { role: api.key('no-such-role'), justification: 'x' });
      expect([...problem(refused), refused.body.role]).toEqual([422, 'urn:custos:problem:unknown-role', api.key('no-such-role')]);
    }],

    ['extension: the beneficiary asks for more time, the same steps approve it again (the inbox shows the extension and her current access), and the grant runs longer under the same id', async () => {
      const { body } = await submit('Ada', { entitlement: keys.extensible, justification: 'migration', duration: 'PT10M' });
      await approve('Mia', body.requestId);
      const first = await fulfilled(body.requestId);
      const asked = await as('Ada', 'POST', `/requests/${body.requestId}/extend`, { duration: 'PT45M', justification: 'the migration runs late' });
      expect([asked.status, asked.body.status, asked.body.extensions]).toEqual([200, 'fulfilled', [expect.objectContaining({ round: 1, status: 'pending', duration: 'PT45M', steps: [expect.objectContaining({ approverIds: [ids.Mia], status: 'pending' })] })]]);
      expect(problem(await as('Mia', 'POST', `/requests/${body.requestId}/extend`, { duration: 'PT45M', justification: 'for Ada' }))).toEqual([403, 'urn:custos:problem:not-beneficiary']);
      expect(problem(await as('Ada', 'POST', `/requests/${body.requestId}/extend`, { duration: 'PT2H', justification: 'again' }))).toEqual([409, 'urn:custos:problem:extension-pending']);
      const inbox = await as('Mia', 'GET', '/approvals');
      const item = inbox.body.items.find((i: { requestId: string }) => i.requestId === body.requestId);
      expect(item).toMatchObject({ round: 1, extension: { round: 1, duration: 'PT45M', justification: 'the migration runs late', currentExpiresAt: first.expiresAt } });
      expect(item.beneficiaryAccess).toEqual(expect.arrayContaining([expect.objectContaining({ grantId: first.grantId, entitlement: keys.extensible, source: 'request' })]));
      expect((await approve('Ada', body.requestId)).status).toBe(403);
      await approve('Mia', body.requestId, { comment: 'ok, once' });
      const extended = await requestOf(body.requestId, (b) => b.extensions?.[0]?.status === 'fulfilled', 'the extension to be granted');
      expect(extended.grantId).toBe(first.grantId);
      expect(Date.parse(extended.expiresAt)).toBeGreaterThan(Date.parse(first.expiresAt));
      const check = await eventually(() => api.check(ids.Ada, keys.extensible), { accept: (c) => c.expiresAt === extended.expiresAt, what: 'GET /check to show the new end', timeoutMs: 10_000 });
      expect(check).toMatchObject({ allowed: true, grantIds: [first.grantId] });
    }],

    ['early revoke: the beneficiary gives the extended access back, the grant is revoked and the request shows revoked', async () => {
      const [latest] = (await as('Ada', 'GET', `/requests?beneficiaryId=${ids.Ada}&status=fulfilled&limit=50`)).body.items.filter((r: { target: { key: string } }) => r.target.key === keys.extensible);
      expect((await as('Ada', 'POST', `/requests/${latest.requestId}/revoke`, { reason: 'done early' })).status).toBe(202);
      await requestOf(latest.requestId, (b) => b.status === 'revoked', 'the request to show revoked');
      await checkWhen(ids.Ada, keys.extensible, false);
    }],

    ['just-in-time expiry across a restart: the entitlement service is killed before the grant\'s end and restarted after it; the grant ends once and the request shows ended', async () => {
      const { body } = await submit('Cyd', { entitlement: keys.jit, justification: 'short job', duration: 'PT8S' });
      await approve('Mia', body.requestId);
      const granted = await fulfilled(body.requestId);
      await checkWhen(ids.Cyd, keys.jit, true);
      await deployment.services.entitlement.stop('SIGKILL');
      const wait = Date.parse(granted.expiresAt) + 1_000 - Date.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      deployment.services.entitlement = await startProcess('entitlement-service', 'apps/entitlement-service/src/main.ts', deployment.env);
      expect(await api.check(ids.Cyd, keys.jit)).toMatchObject({ allowed: false });
      const ended = await requestOf(body.requestId, (b) => b.status === 'ended', 'the request to end with its grant', 30_000);
      expect(ended.grants).toEqual([expect.objectContaining({ grantId: granted.grantId, endedAt: expect.any(String) })]);
      const revoked = await api.auditEventsWhen(ids.Cyd, 'AccessRevoked', (events) => events.some((e) => e.data?.grantId === granted.grantId), 'the expiry in the audit log');
      expect(revoked.filter((e) => e.data?.grantId === granted.grantId).map((e) => e.data.reason)).toEqual(['expired']);
    }],
  ];

  it('gives each scenario a unique description', () => {
    expect(new Set(scenarios.map(([description]) => description)).size).toBe(scenarios.length);
  });

  it.each(scenarios)('%s', async (_description, run) => run(), 120_000);
});
