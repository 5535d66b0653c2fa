import {
  EVALUATE_SOD_RPC,
  EXPAND_ROLE_RPC,
  EXTEND_REQUEST_RPC,
  GRANT_REQUEST_RPC,
  REVOKE_REQUEST_RPC,
  SECURITY_ENTITLEMENT,
  type EvaluateSodResult,
  type ExtendRequestCommand,
  type GrantRequestCommand,
} from '@custos/entitlement/contracts';
import { sampleIdentitySnapshot } from '@custos/identity/contracts';
import { type CustosEvent, SqlEventStore } from '@custos/platform/event-store';
import { InProcessBus } from '@custos/platform/messaging';
import { type ContextRuntime, createLogger, DurableScheduler, Inbox, migrateContext, readConfig } from '@custos/platform/runtime';
import { usePostgres } from '@custos/platform/testing';
import { requestStreamId } from '@custos/request/contracts';
import { NotEligibleApprover, SelfApproval, StepUpRequired } from '@custos/request/domain';
import { BreakGlassService, ESCALATE_BREAK_GLASS_REVIEW } from './break-glass-service';
import { UnknownEntitlement, UnknownRole } from './errors';
import { DelegationService } from './delegation-service';
import { DelegationsView } from './read-models/delegations/delegations-view';
import { Directory } from './read-models/directory/directory';
import { RequestsView } from './read-models/requests-view/requests-view';
import { FulfilmentNotYetRecorded, RequestFulfilment } from './request-fulfilment';
import { ESCALATE_REQUEST, EXPIRE_REQUEST, RequestService } from './request-service';

const NOW = '2026-03-02T09:00:00.000Z';
const [ADA, MIA, MAX, OLGA, SEC, CYD] = ['id-ada', 'id-mia', 'id-max', 'id-olga', 'id-sec', 'id-cyd'];
let sequence = 0;

/** An event of another context as the bus delivers it. */
function delivered(context: string, name: string, subject: string, data: object, streamversion = 1): CustosEvent {
  sequence += 1;
  return {
    specversion: '1.0',
    id: `evt-${sequence}`,
    source: `/custos/${context}`,
    type: `custos.${context}.${name}.v1`,
    subject,
    time: NOW,
    datacontenttype: 'application/json',
    data,
    streamversion,
    globalposition: String(sequence),
    correlationid: `evt-${sequence}`,
    causationid: `evt-${sequence}`,
    actor: 'test',
    name,
  };
}

const hired = (identityId: string, managerId?: string, version = 1) =>
  delivered('identity', 'IdentityHired', `identity-${identityId}`, { identityId, identity: { ...sampleIdentitySnapshot(identityId, 'Data'), managerId } }, version);
const entitlementDefined = (key: string, extra: object = {}) =>
  delivered('entitlement', 'EntitlementDefined', `entitlement-${key}`, {
    key,
    application: 'db',
    name: key,
    privileged: false,
    risk: 'medium',
    ownerId: OLGA,
    breakGlass: false,
    approvalPolicy: { steps: [{ kind: 'manager', required: 1 }, { kind: 'owner', required: 1 }] },
    definedAt: NOW,
    definedBy: 'admin',
    ...extra,
  });
const accessGranted = (identityId: string, entitlement: string, grantId: string, requestId?: string) =>
  delivered('entitlement', 'AccessGranted', `access-${identityId}`, { grantId, identityId, entitlement, source: requestId ? 'request' : 'admin', ...(requestId && { requestId }), grantedAt: NOW, reason: 'x' });
const accessRevoked = (identityId: string, entitlement: string, grantId: string, reason: string) =>
  delivered('entitlement', 'AccessRevoked', `access-${identityId}`, { grantId, identityId, entitlement, source: 'request', reason, revokedAt: NOW });

describe('RequestService and RequestFulfilment (PostgreSQL)', () => {
  const pg = usePostgres('request_app');
  let now: Date;
  let close: () => Promise<void>;

  /** The request context in its own schema, with Ada (managed by Mia), Mia (managed by Max), Olga and a security approver known from events. */
  async function open(sod: EvaluateSodResult = { outcome: 'allow', violations: [] }) {
    now = new Date(NOW);
    const schema = pg.schema;
    const store = await SqlEventStore.open(pg.db, { context: 'request', schema });
    const bus = new InProcessBus();
    const runtime: ContextRuntime = { context: 'request', db: pg.db, store, bus, clock: () => now, logger: createLogger(readConfig({}), 'test'), publicUrl: 'http://localhost:3000' };
    const inbox = new Inbox(pg.db, schema);
    const directory = new Directory(pg.db, schema);
    const view = new RequestsView(pg.db, store, schema);
    const delegationsView = new DelegationsView(pg.db, store, schema);
    const scheduler = new DurableScheduler(pg.db, schema, runtime.clock);
    await migrateContext(pg.db, schema, [(x) => inbox.migrate(x), (x) => directory.migrate(x), (x) => view.migrate(x), (x) => delegationsView.migrate(x), (x) => scheduler.migrate(x)]);
    const requests = new RequestService(runtime, directory, scheduler, delegationsView);
    const delegations = new DelegationService(runtime, directory, delegationsView);
    const breakGlass = new BreakGlassService(runtime, directory, scheduler);
    const fulfilment = new RequestFulfilment(runtime, inbox, directory, requests, breakGlass);
    const grantsAsked: GrantRequestCommand[] = [];
    /** Set to make the entitlement service's grant door fail as an unreachable service would (503). */
    const grantDoor: { down: boolean; refuse?: { status: number; code: string; message: string } } = { down: false };
    const revokesAsked: unknown[] = [];
    await bus.serve(EVALUATE_SOD_RPC, async () => sod);
    const roles: Record<string, string[]> = { 'db-team': ['db:read', 'db:owned-by-max', 'db:capped'], empty: [] };
    await bus.serve(EXPAND_ROLE_RPC, async (payload) => {
      const { role } = payload as { role: string };
      if (!Object.prototype.hasOwnProperty.call(roles, role)) throw Object.assign(new Error(`role ${role} is not defined`), { status: 404, details: { code: 'not-defined' } });
      return { role, entitlements: roles[role] };
    });
    await bus.serve(GRANT_REQUEST_RPC, async (payload) => {
      if (grantDoor.down) throw Object.assign(new Error('entitlement service down'), { status: 503 });
      if (grantDoor.refuse) throw Object.assign(new Error(grantDoor.refuse.message), { status: grantDoor.refuse.status, details: { code: grantDoor.refuse.code } });
      const command = payload as GrantRequestCommand;
      grantsAsked.push(command);
      const keys = command.entitlements ?? [command.entitlement!];
      return { grants: keys.map((key) => ({ grantId: `${command.source ?? 'request'}:${command.requestId}:${key}`, entitlement: key, expiresAt: command.expiresAt })) };
    });
    const extensionsAsked: ExtendRequestCommand[] = [];
    /** Set to make the entitlement service refuse extensions (a grant no longer held). */
    const extendDoor: { refuse?: { status: number; code: string; message: string } } = {};
    await bus.serve(EXTEND_REQUEST_RPC, async (payload) => {
      if (extendDoor.refuse) throw Object.assign(new Error(extendDoor.refuse.message), { status: extendDoor.refuse.status, details: { code: extendDoor.refuse.code } });
      const command = payload as ExtendRequestCommand;
      extensionsAsked.push(command);
      return { grants: [{ grantId: `request:${command.requestId}:db:read`, entitlement: 'db:read', expiresAt: command.expiresAt }] };
    });
    await bus.serve(REVOKE_REQUEST_RPC, async (payload) => {
      revokesAsked.push(payload);
      return { revokedGrantIds: [] };
    });
    for (const event of [hired(ADA, MIA), hired(MIA, MAX), hired(MAX), hired(OLGA), hired(SEC, OLGA), hired(CYD, MAX)]) await fulfilment.onIdentityEvent(event);
    const entitlements = [
      entitlementDefined('db:read'),
      entitlementDefined('db:capped', { maxDuration: 'PT1H' }),
      entitlementDefined('db:owned-by-max', { ownerId: MAX, approvalPolicy: { steps: [{ kind: 'owner', required: 1 }, { kind: 'security', required: 1 }] } }),
      entitlementDefined('db:glass', { breakGlass: true, privileged: true }),
      entitlementDefined('db:glass-2h', { breakGlass: true, maxDuration: 'PT2H' }),
      accessGranted(SEC, SECURITY_ENTITLEMENT, 'g-sec'),
    ];
    for (const event of entitlements) {
      await fulfilment.onEntitlementEvent(event);
    }
    view.start((error) => {
      throw error;
    });
    delegationsView.start((error) => {
      throw error;
    });
    close = async () => {
      await delegationsView.stop();
      await view.stop();
      await bus.close();
      await store.close();
    };
    const streamNames = async (requestId: string) => (await store.readStream(requestStreamId(requestId))).map((e) => e.name);
    /** The request's own events as the bus would deliver them to the fulfilment. */
    const ownEvents = async (requestId: string) => store.readStream(requestStreamId(requestId));
    /** A break-glass use's own events as the bus would deliver them to the fulfilment. */
    const breakGlassEvents = async (breakGlassId: string) => store.readStream(`break-glass-${breakGlassId}`);
    /** A break-glass service whose reviews are due after `reviewWindow` (the operator's CUSTOS_BREAK_GLASS_REVIEW_WINDOW). */
    const breakGlassWithWindow = (reviewWindow: string) => new BreakGlassService(runtime, directory, scheduler, { reviewWindow });
    return { breakGlassWithWindow, requests, delegations, breakGlass, grantDoor, extendDoor, extensionsAsked, breakGlassEvents, fulfilment, directory, view, scheduler, grantsAsked, revokesAsked, streamNames, ownEvents, store };
  }

  afterEach(async () => {
    await close?.();
  });

  it('routes a request to the beneficiary\'s manager then the entitlement\'s owner, schedules each step\'s escalation and expiry, and grants it once both approve', async () => {
    const c = await open();
    const { answer } = await c.requests.submit({ requesterId: ADA, target: { kind: 'entitlement', key: 'db:read' }, justification: 'report', duration: 'PT2H' }, { actor: ADA });
    expect(answer).toMatchObject({
      status: 'pending',
      steps: [
        { kind: 'manager', approverIds: [MIA], status: 'pending' },
        { kind: 'owner', approverIds: [OLGA], status: 'waiting' },
      ],
    });
    const requestId = answer.requestId;
    expect((await c.scheduler.pending()).map((job) => [job.key, job.kind, job.dueAt.toISOString()])).toEqual([
      [`escalate:${requestId}:0:0`, ESCALATE_REQUEST, '2026-03-04T09:00:00.000Z'],
      [`expire:${requestId}:0`, EXPIRE_REQUEST, '2026-03-06T09:00:00.000Z'],
    ]);
    await c.view.caughtUp();
    expect((await c.view.pendingFor(MIA)).map((item) => item.request.requestId)).toEqual([requestId]);

    await c.requests.decide({ requestId, approverId: MIA, decision: 'approve', amr: ['pwd'] }, { actor: MIA });
    const approved = await c.requests.decide({ requestId, approverId: OLGA, decision: 'approve', comment: 'ok', amr: ['pwd'] }, { actor: OLGA });
    expect(approved.answer.status).toBe('approved');
    await c.view.caughtUp();
    expect(await c.view.pendingFor(OLGA)).toEqual([]);

    for (const event of await c.ownEvents(requestId)) await c.fulfilment.onRequestEvent(event);
    expect(c.grantsAsked).toEqual([{ requestId, identityId: ADA, entitlement: 'db:read', reason: 'report', expiresAt: '2026-03-02T11:00:00.000Z', approvedBy: OLGA }]);
    const grantId = `request:${requestId}:db:read`;
    expect((await c.requests.get(requestId)).answer).toMatchObject({ status: 'fulfilled', grantId, expiresAt: '2026-03-02T11:00:00.000Z' });

    // The entitlement context announces the grant, then its expiry: the request ends.
    await c.fulfilment.onEntitlementEvent(accessGranted(ADA, 'db:read', grantId, requestId));
    const expiry = accessRevoked(ADA, 'db:read', grantId, 'expired');
    await c.fulfilment.onEntitlementEvent(expiry);
    await c.fulfilment.onEntitlementEvent(expiry);
    expect((await c.requests.get(requestId)).answer).toMatchObject({ status: 'ended', grants: [{ grantId, endedAt: NOW }] });
    expect(await c.streamNames(requestId)).toEqual([
      'RequestSubmitted',
      'ApprovalRequested',
      'DecisionRecorded',
      'ApprovalRequested',
      'DecisionRecorded',
      'RequestApproved',
      'RequestFulfilled',
      'GrantEnded',
    ]);
  });

  it('records a self-approval and an ineligible approver as refusals before answering 403, and changes nothing else', async () => {
    const c = await open();
    const { answer } = await c.requests.submit({ requesterId: ADA, target: { kind: 'entitlement', key: 'db:read' }, justification: 'report' }, { actor: ADA });
    await expect(c.requests.decide({ requestId: answer.requestId, approverId: ADA, decision: 'approve', amr: [] }, { actor: ADA })).rejects.toThrow(SelfApproval);
    await expect(c.requests.decide({ requestId: answer.requestId, approverId: OLGA, decision: 'approve', amr: [] }, { actor: OLGA })).rejects.toThrow(NotEligibleApprover);
    expect(await c.streamNames(answer.requestId)).toEqual(['RequestSubmitted', 'ApprovalRequested', 'DecisionRefused', 'DecisionRefused']);
    expect((await c.requests.get(answer.requestId)).answer.steps[0]).toMatchObject({ status: 'pending', decisions: [] });
  });

  it('routes a manager step to security when the beneficiary has no manager', async () => {
    const c = await open();
    const { answer } = await c.requests.submit({ requesterId: MAX, target: { kind: 'entitlement', key: 'db:read' }, justification: 'x' }, { actor: MAX });
    expect(answer.steps).toMatchObject([
      { kind: 'security', routedFrom: 'manager', approverIds: [SEC] },
      { kind: 'owner', approverIds: [OLGA] },
    ]);
  });

  it('escalates a step still open at its SLA to the approvers\' managers, who may then decide it', async () => {
    const c = await open();
    const { answer } = await c.requests.submit({ requesterId: ADA, target: { kind: 'entitlement', key: 'db:read' }, justification: 'x' }, { actor: ADA });
    now = new Date('2026-03-04T09:00:01.000Z');
    c.scheduler.use({
      [ESCALATE_REQUEST]: (payload, tx) => c.requests.escalate(tx, payload as { requestId: string; round: number; step: number }),
      [EXPIRE_REQUEST]: (payload, tx) => c.requests.expire(tx, payload as { requestId: string; round: number }),
    });
    expect(await c.scheduler.runDue()).toBe(1);
    expect((await c.requests.get(answer.requestId)).answer.steps[0]).toMatchObject({ escalatedTo: [MAX] });
    const byMax = await c.requests.decide({ requestId: answer.requestId, approverId: MAX, decision: 'approve', amr: [] }, { actor: MAX });
    expect(byMax.answer.steps.map((step) => step.status)).toEqual(['approved', 'pending']);
    // Past the second SLA the round expires; the owner step's own jobs were scheduled when it opened.
    now = new Date('2026-03-09T09:00:00.000Z');
    await c.scheduler.runDue();
    expect((await c.requests.get(answer.requestId)).answer.status).toBe('expired');
  });

  it('takes the step SLA from the entitlement: its escalation and expiry are due after it', async () => {
    const c = await open();
    await c.fulfilment.onEntitlementEvent(entitlementDefined('db:fast', { approvalSla: 'PT10M' }));
    const { answer } = await c.requests.submit({ requesterId: ADA, target: { kind: 'entitlement', key: 'db:fast' }, justification: 'x' }, { actor: ADA });
    expect(answer).toMatchObject({ approvalSla: 'PT10M', steps: [{ escalationDueAt: '2026-03-02T09:10:00.000Z', expiryDueAt: '2026-03-02T09:20:00.000Z' }, {}] });
  });

  it('refuses an unknown entitlement and a duration over the maximum without writing anything', async () => {
    const c = await open();
    await expect(c.requests.submit({ requesterId: ADA, target: { kind: 'entitlement', key: 'ghost' }, justification: 'x' }, { actor: ADA })).rejects.toThrow(UnknownEntitlement);
    await expect(c.requests.submit({ requesterId: ADA, target: { kind: 'entitlement', key: 'db:capped' }, justification: 'x', duration: 'PT2H' }, { actor: ADA })).rejects.toMatchObject({
      code: 'duration-exceeds-maximum',
      maxDuration: 'PT1H',
    });
    expect(await c.store.head()).toBeNull();
    expect(await c.scheduler.pending()).toEqual([]);
  });

  it('refuses an SoD prevent conflict (422 naming the entitlements), and adds an accepting security step for an approve conflict', async () => {
    const conflict = { policyKey: 'p', mode: 'approve' as const, severity: 'high' as const, left: ['db:read'], right: ['db:write'] };
    const c = await open({ outcome: 'approve', violations: [conflict] });
    const { answer } = await c.requests.submit({ requesterId: ADA, target: { kind: 'entitlement', key: 'db:read' }, justification: 'x' }, { actor: ADA });
    expect(answer.steps[2]).toMatchObject({ kind: 'security', approverIds: [SEC], sodConflicts: [conflict] });
    await close();
    const prevented = await open({ outcome: 'prevent', violations: [{ ...conflict, mode: 'prevent' }] });
    await expect(prevented.requests.submit({ requesterId: ADA, target: { kind: 'entitlement', key: 'db:read' }, justification: 'x' }, { actor: ADA })).rejects.toMatchObject({
      code: 'sod-violation',
      entitlements: ['db:read', 'db:write'],
    });
  });

  it('asks the entitlement context to revoke the grants when the beneficiary gives the access back, and learns the end from AccessRevoked', async () => {
    const c = await open();
    const { answer } = await c.requests.submit({ requesterId: ADA, target: { kind: 'entitlement', key: 'db:read' }, justification: 'x' }, { actor: ADA });
    const requestId = answer.requestId;
    await c.requests.decide({ requestId, approverId: MIA, decision: 'approve', amr: [] }, { actor: MIA });
    await c.requests.decide({ requestId, approverId: OLGA, decision: 'approve', amr: [] }, { actor: OLGA });
    for (const event of await c.ownEvents(requestId)) await c.fulfilment.onRequestEvent(event);
    const grantId = `request:${requestId}:db:read`;
    await c.fulfilment.onEntitlementEvent(accessGranted(ADA, 'db:read', grantId, requestId));
    await c.requests.revokeEarly({ requestId, revokedBy: ADA, reason: 'done' }, { actor: ADA });
    const events = await c.ownEvents(requestId);
    await c.fulfilment.onRequestEvent(events[events.length - 1]);
    expect(c.revokesAsked).toEqual([{ requestId, identityId: ADA, detail: 'done' }]);
    await c.fulfilment.onEntitlementEvent(accessRevoked(ADA, 'db:read', grantId, 'request-revoked'));
    expect((await c.requests.get(requestId)).answer.status).toBe('revoked');
  });

  it('leaves the end of a grant the request has not recorded yet to a redelivery (a very short grant ending before its fulfilment is in)', async () => {
    const c = await open();
    const { answer } = await c.requests.submit({ requesterId: ADA, target: { kind: 'entitlement', key: 'db:read' }, justification: 'x', duration: 'PT1S' }, { actor: ADA });
    const requestId = answer.requestId;
    await c.requests.decide({ requestId, approverId: MIA, decision: 'approve', amr: [] }, { actor: MIA });
    await c.requests.decide({ requestId, approverId: OLGA, decision: 'approve', amr: [] }, { actor: OLGA });
    const grantId = `request:${requestId}:db:read`;
    await c.fulfilment.onEntitlementEvent(accessGranted(ADA, 'db:read', grantId, requestId));
    const expiry = accessRevoked(ADA, 'db:read', grantId, 'expired');
    await expect(c.fulfilment.onEntitlementEvent(expiry)).rejects.toThrow(FulfilmentNotYetRecorded);
    for (const event of await c.ownEvents(requestId)) await c.fulfilment.onRequestEvent(event);
    await c.fulfilment.onEntitlementEvent(expiry);
    expect((await c.requests.get(requestId)).answer).toMatchObject({ status: 'ended', grants: [{ grantId, endedAt: NOW }] });
  });

  it('lets the delegate of an away manager approve in her place, recorded on her behalf, and shows it in the delegate\'s list until it is ended', async () => {
    const c = await open();
    const delegation = await c.delegations.grant({ approverId: MIA, delegateId: CYD, until: '2026-03-09T09:00:00.000Z' }, { actor: MIA });
    expect(delegation).toMatchObject({ approverId: MIA, delegateId: CYD, from: NOW, status: 'active' });
    const { answer } = await c.requests.submit({ requesterId: ADA, target: { kind: 'entitlement', key: 'db:read' }, justification: 'report' }, { actor: ADA });
    const byCyd = await c.requests.decide({ requestId: answer.requestId, approverId: CYD, decision: 'approve', comment: 'for Mia', amr: [] }, { actor: CYD });
    expect(byCyd.answer.steps[0]).toMatchObject({ status: 'approved', decisions: [{ approverId: CYD, onBehalfOf: MIA, decision: 'approve', comment: 'for Mia' }] });
    expect(byCyd.answer.steps[1].status).toBe('pending');
    expect((await c.delegations.list(CYD)).map((d) => [d.delegationId, d.status])).toEqual([[delegation.delegationId, 'active']]);

    // Ended early by Mia: Cyd decides nothing more in her place.
    const ended = await c.delegations.end({ delegationId: delegation.delegationId, endedBy: MIA }, { actor: MIA });
    expect(ended).toMatchObject({ status: 'ended', endedBy: MIA, endedAt: NOW });
    const second = await c.requests.submit({ requesterId: ADA, target: { kind: 'entitlement', key: 'db:read' }, justification: 'again' }, { actor: ADA });
    await expect(c.requests.decide({ requestId: second.answer.requestId, approverId: CYD, decision: 'approve', amr: [] }, { actor: CYD })).rejects.toThrow(NotEligibleApprover);
    await expect(c.delegations.end({ delegationId: delegation.delegationId, endedBy: OLGA }, { actor: OLGA })).rejects.toMatchObject({ code: 'not-delegation-party' });
    await expect(c.delegations.end({ delegationId: 'no-such', endedBy: MIA }, { actor: MIA })).rejects.toMatchObject({ code: 'delegation-not-found' });
  });

  it('refuses a self-approval through a delegation (the beneficiary as the manager\'s delegate): recorded, then 403, the step still pending', async () => {
    const c = await open();
    await c.delegations.grant({ approverId: MIA, delegateId: ADA, until: '2026-03-09T09:00:00.000Z' }, { actor: MIA });
    const { answer } = await c.requests.submit({ requesterId: ADA, target: { kind: 'entitlement', key: 'db:read' }, justification: 'report' }, { actor: ADA });
    await expect(c.requests.decide({ requestId: answer.requestId, approverId: ADA, decision: 'approve', amr: [] }, { actor: ADA })).rejects.toThrow(SelfApproval);
    const events = await c.ownEvents(answer.requestId);
    expect(events.map((e) => e.name)).toEqual(['RequestSubmitted', 'ApprovalRequested', 'DecisionRefused']);
    expect(events[2].data).toMatchObject({ approverId: ADA, reason: 'self-approval' });
    expect((await c.requests.get(answer.requestId)).answer.steps[0]).toMatchObject({ status: 'pending', decisions: [] });
  });

  it('refuses a delegation to an unknown identity (422) and an overlapping one (409), writing nothing', async () => {
    const c = await open();
    await expect(c.delegations.grant({ approverId: MIA, delegateId: 'id-ghost', until: '2026-03-09T09:00:00.000Z' }, { actor: MIA })).rejects.toMatchObject({ code: 'unknown-identity', httpStatus: 422 });
    await c.delegations.grant({ approverId: MIA, delegateId: CYD, until: '2026-03-09T09:00:00.000Z' }, { actor: MIA });
    await expect(c.delegations.grant({ approverId: MIA, delegateId: OLGA, from: '2026-03-03T09:00:00.000Z', until: '2026-03-04T09:00:00.000Z' }, { actor: MIA })).rejects.toMatchObject({ code: 'delegation-overlaps' });
    expect(await c.delegations.list(MIA)).toHaveLength(1);
  });

  it('breaks the glass on an entitlement marked breakGlass: granted at once (source break-glass) for PT1H, the security approver to review it within PT24H; the user may not review it, the reviewer needs mfa on a privileged one', async () => {
    const c = await open();
    const used = await c.breakGlass.use({ identityId: ADA, entitlement: 'db:glass', justification: 'INC-1: database down', amr: ['pwd', 'mfa'] }, { actor: ADA });
    const id = used.breakGlassId;
    expect(used).toMatchObject({
      status: 'awaiting-review',
      identityId: ADA,
      entitlement: 'db:glass',
      duration: 'PT1H',
      expiresAt: '2026-03-02T10:00:00.000Z',
      privileged: true,
      reviewerIds: [SEC],
      reviewDueAt: '2026-03-03T09:00:00.000Z',
      grantId: `break-glass:${id}:db:glass`,
    });
    expect(c.grantsAsked).toEqual([
      { source: 'break-glass', requestId: id, identityId: ADA, entitlement: 'db:glass', reason: 'INC-1: database down', expiresAt: '2026-03-02T10:00:00.000Z', approvedBy: ADA },
    ]);
    expect((await c.scheduler.pending()).map((job) => [job.key, job.kind, job.dueAt.toISOString()])).toEqual([
      [`escalate-review:${id}`, ESCALATE_BREAK_GLASS_REVIEW, '2026-03-03T09:00:00.000Z'],
    ]);
    // The fulfilment sees the use granted already: it asks nothing more.
    for (const event of await c.breakGlassEvents(id)) await c.fulfilment.onRequestEvent(event);
    expect(c.grantsAsked).toHaveLength(1);

    await expect(c.breakGlass.review({ breakGlassId: id, reviewerId: ADA, outcome: 'justified', comment: 'mine', amr: ['mfa'] }, { actor: ADA })).rejects.toThrow(SelfApproval);
    await expect(c.breakGlass.review({ breakGlassId: id, reviewerId: SEC, outcome: 'justified', comment: 'ok', amr: ['pwd'] }, { actor: SEC })).rejects.toThrow(StepUpRequired);
    const reviewed = await c.breakGlass.review({ breakGlassId: id, reviewerId: SEC, outcome: 'not-justified', comment: 'no incident on record', amr: ['pwd', 'mfa'] }, { actor: SEC });
    expect(reviewed).toMatchObject({ status: 'reviewed', review: { reviewerId: SEC, outcome: 'not-justified', comment: 'no incident on record', reviewedAt: NOW } });
    expect((await c.breakGlassEvents(id)).map((e) => e.name)).toEqual(['BreakGlassUsed', 'BreakGlassFulfilled', 'BreakGlassReviewRefused', 'BreakGlassReviewRefused', 'BreakGlassReviewed']);
    await expect(c.breakGlass.review({ breakGlassId: id, reviewerId: SEC, outcome: 'justified', comment: 'changed my mind', amr: ['mfa'] }, { actor: SEC })).rejects.toMatchObject({ code: 'review-completed' });
  });

  it.each<[string, { entitlement: string; duration?: string; amr: string[] }, string]>([
    ['an entitlement not marked breakGlass (422)', { entitlement: 'db:read', amr: ['mfa'] }, 'break-glass-not-allowed'],
    ['a duration over its maximum (422)', { entitlement: 'db:glass-2h', duration: 'PT3H', amr: ['mfa'] }, 'duration-exceeds-maximum'],
    ['a privileged one without mfa (403)', { entitlement: 'db:glass', amr: ['pwd'] }, 'step-up-required'],
    ['an unknown entitlement (422)', { entitlement: 'ghost', amr: ['mfa'] }, 'unknown-entitlement'],
  ])('refuses to break the glass on %s, and writes and grants nothing', async (_description, input, code) => {
    const c = await open();
    await expect(c.breakGlass.use({ identityId: ADA, justification: 'x', ...input }, { actor: ADA })).rejects.toMatchObject({ code });
    expect(await c.store.head()).toBeNull();
    expect(c.grantsAsked).toEqual([]);
  });

  it('grants a use the entitlement service did not answer at once when the fulfilment gets BreakGlassUsed, and escalates a review still open at its due time', async () => {
    const c = await open();
    c.grantDoor.down = true;
    const used = await c.breakGlass.use({ identityId: ADA, entitlement: 'db:glass-2h', justification: 'INC-2', duration: 'PT30M', amr: [] }, { actor: ADA });
    expect(used.grantId).toBeUndefined();
    const [usedEvent] = await c.breakGlassEvents(used.breakGlassId);
    await expect(c.fulfilment.onRequestEvent(usedEvent)).rejects.toMatchObject({ status: 503 });
    c.grantDoor.down = false;
    await c.fulfilment.onRequestEvent(usedEvent);
    expect(await c.breakGlass.get(used.breakGlassId)).toMatchObject({ grantId: `break-glass:${used.breakGlassId}:db:glass-2h`, expiresAt: '2026-03-02T09:30:00.000Z' });

    c.scheduler.use({ [ESCALATE_BREAK_GLASS_REVIEW]: (payload, tx) => c.breakGlass.escalateReview(tx, payload as { breakGlassId: string }) });
    now = new Date('2026-03-03T09:00:01.000Z');
    expect(await c.scheduler.runDue()).toBe(1);
    const escalated = await c.breakGlass.get(used.breakGlassId);
    expect(escalated).toMatchObject({ status: 'awaiting-review', escalatedTo: [OLGA, SEC], escalatedAt: '2026-03-03T09:00:01.000Z' });
    const byOlga = await c.breakGlass.review({ breakGlassId: used.breakGlassId, reviewerId: OLGA, outcome: 'justified', comment: 'INC-2 confirmed', amr: [] }, { actor: OLGA });
    expect(byOlga.review).toMatchObject({ reviewerId: OLGA, outcome: 'justified' });
  });

  it('records the entitlement context\'s refusal of an approved request\'s grant (an SoD prevent policy added after the approval) as FulfilmentRefused, once, without retrying; a transport failure is retried', async () => {
    const c = await open();
    const { answer } = await c.requests.submit({ requesterId: ADA, target: { kind: 'entitlement', key: 'db:read' }, justification: 'x' }, { actor: ADA });
    const requestId = answer.requestId;
    await c.requests.decide({ requestId, approverId: MIA, decision: 'approve', amr: [] }, { actor: MIA });
    await c.requests.decide({ requestId, approverId: OLGA, decision: 'approve', amr: [] }, { actor: OLGA });
    const approved = (await c.ownEvents(requestId)).find((event) => event.name === 'RequestApproved')!;

    c.grantDoor.down = true;
    await expect(c.fulfilment.onRequestEvent(approved)).rejects.toMatchObject({ status: 503 });
    expect((await c.requests.get(requestId)).answer.status).toBe('approved');

    c.grantDoor.down = false;
    c.grantDoor.refuse = { status: 422, code: 'sod-violation', message: 'separation of duties: p (db:read, db:write)' };
    await c.fulfilment.onRequestEvent(approved);
    // A redelivery of the approval (or a late retry) records nothing more.
    await c.fulfilment.onRequestEvent(approved);
    expect((await c.requests.get(requestId)).answer).toMatchObject({
      status: 'refused',
      refusedAt: NOW,
      fulfilmentRefusal: { code: 'sod-violation', reason: 'separation of duties: p (db:read, db:write)' },
    });
    expect((await c.streamNames(requestId)).slice(-2)).toEqual(['RequestApproved', 'FulfilmentRefused']);
    expect(c.grantsAsked).toEqual([]);
    await c.view.caughtUp();
    expect((await c.view.list({ beneficiaryId: ADA, status: 'refused', limit: 10 })).items.map((item) => item.requestId)).toEqual([requestId]);
  });

  /** Ada's request for db:read for PT2H, approved by Mia and Olga and granted: its id and grant id. */
  async function fulfilledRequest(c: Awaited<ReturnType<typeof open>>): Promise<{ requestId: string; grantId: string }> {
    const { answer } = await c.requests.submit({ requesterId: ADA, target: { kind: 'entitlement', key: 'db:read' }, justification: 'report', duration: 'PT2H' }, { actor: ADA });
    const requestId = answer.requestId;
    await c.requests.decide({ requestId, approverId: MIA, decision: 'approve', amr: [] }, { actor: MIA });
    await c.requests.decide({ requestId, approverId: OLGA, decision: 'approve', amr: [] }, { actor: OLGA });
    for (const event of await c.ownEvents(requestId)) await c.fulfilment.onRequestEvent(event);
    const grantId = `request:${requestId}:db:read`;
    // The bus gives the entitlement context's event to both consumers: the directory's and the access copy's.
    const granted = accessGranted(ADA, 'db:read', grantId, requestId);
    await c.fulfilment.onEntitlementEvent(granted);
    await c.fulfilment.onAccessEvent(granted);
    return { requestId, grantId };
  }

  it('extends access in force: a new round through the same steps, in the approvers\' inboxes with the beneficiary\'s access, then extended in place once approved', async () => {
    const c = await open();
    const { requestId, grantId } = await fulfilledRequest(c);
    now = new Date('2026-03-02T10:00:00.000Z');
    await expect(c.requests.extend({ requestId, requestedBy: MIA, duration: 'PT3H', justification: 'for Ada' }, { actor: MIA })).rejects.toMatchObject({ code: 'not-beneficiary' });
    const asked = await c.requests.extend({ requestId, requestedBy: ADA, duration: 'PT3H', justification: 'the migration runs late' }, { actor: ADA });
    expect(asked.answer).toMatchObject({
      status: 'fulfilled',
      expiresAt: '2026-03-02T11:00:00.000Z',
      extensions: [{ round: 1, status: 'pending', duration: 'PT3H', justification: 'the migration runs late', steps: [{ kind: 'manager', approverIds: [MIA], status: 'pending' }, { kind: 'owner', approverIds: [OLGA], status: 'waiting' }] }],
    });
    await expect(c.requests.extend({ requestId, requestedBy: ADA, duration: 'PT1H', justification: 'again' }, { actor: ADA })).rejects.toMatchObject({ code: 'extension-pending' });

    await c.view.caughtUp();
    const [item] = await c.view.pendingFor(MIA);
    expect(item).toMatchObject({ round: 1, step: 0, request: { requestId } });
    expect((await c.directory.currentAccess([ADA], now)).get(ADA)).toEqual([{ grantId, entitlement: 'db:read', source: 'request', requestId, grantedAt: NOW }]);

    await c.requests.decide({ requestId, approverId: MIA, decision: 'approve', amr: [] }, { actor: MIA });
    const approved = await c.requests.decide({ requestId, approverId: OLGA, decision: 'approve', comment: 'ok', amr: [] }, { actor: OLGA });
    expect(approved.answer.extensions).toMatchObject([{ status: 'approved', expiresAt: '2026-03-02T13:00:00.000Z' }]);
    await c.view.caughtUp();
    expect(await c.view.pendingFor(OLGA)).toEqual([]);

    const events = await c.ownEvents(requestId);
    await c.fulfilment.onRequestEvent(events[events.length - 1]);
    await c.fulfilment.onRequestEvent(events[events.length - 1]);
    expect(c.extensionsAsked).toEqual([{ requestId, identityId: ADA, round: 1, expiresAt: '2026-03-02T13:00:00.000Z', reason: 'the migration runs late', approvedBy: OLGA }]);
    const extended = (await c.requests.get(requestId)).answer;
    expect(extended).toMatchObject({ status: 'fulfilled', grantId, expiresAt: '2026-03-02T13:00:00.000Z', grants: [{ grantId, expiresAt: '2026-03-02T13:00:00.000Z' }], extensions: [{ status: 'fulfilled' }] });
    expect((await c.streamNames(requestId)).filter((name) => name === 'RequestFulfilled')).toHaveLength(2);

    // The entitlement context announces the extension: the directory's copy of Ada's access follows.
    await c.fulfilment.onAccessEvent(
      delivered('entitlement', 'AccessExtended', `access-${ADA}`, {
        grantId, identityId: ADA, entitlement: 'db:read', requestId, round: 1, previousExpiresAt: '2026-03-02T11:00:00.000Z', expiresAt: '2026-03-02T13:00:00.000Z', reason: 'x', extendedBy: OLGA, extendedAt: NOW,
      }),
    );
    expect((await c.directory.currentAccess([ADA], new Date('2026-03-02T12:00:00.000Z'))).get(ADA)).toEqual([expect.objectContaining({ grantId, expiresAt: '2026-03-02T13:00:00.000Z' })]);
    expect((await c.directory.currentAccess([ADA], new Date('2026-03-02T13:00:00.000Z'))).get(ADA)).toEqual([]);
  });

  it('records the entitlement context\'s refusal of an approved extension; the access keeps its end, and ends the request if its grant ended meanwhile', async () => {
    const c = await open();
    const { requestId, grantId } = await fulfilledRequest(c);
    await c.requests.extend({ requestId, requestedBy: ADA, duration: 'PT3H', justification: 'late' }, { actor: ADA });
    await c.requests.decide({ requestId, approverId: MIA, decision: 'approve', amr: [] }, { actor: MIA });
    await c.requests.decide({ requestId, approverId: OLGA, decision: 'approve', amr: [] }, { actor: OLGA });
    await c.fulfilment.onEntitlementEvent(accessRevoked(ADA, 'db:read', grantId, 'expired'));
    expect((await c.requests.get(requestId)).answer.status).toBe('fulfilled');
    c.extendDoor.refuse = { status: 404, code: 'not-held', message: `identity ${ADA} holds no grant matching {"requestId":"${requestId}"}` };
    const events = await c.ownEvents(requestId);
    await c.fulfilment.onRequestEvent(events.find((event) => event.name === 'ExtensionApproved')!);
    expect((await c.requests.get(requestId)).answer).toMatchObject({ status: 'ended', extensions: [{ status: 'refused', fulfilmentRefusal: { code: 'not-held' } }] });
    expect(c.extensionsAsked).toEqual([]);
  });

  it('lists a revoked grant as no current access even when its revocation arrives before its grant (a redelivery), and a grant delivered twice once', async () => {
    const c = await open();
    await c.fulfilment.onAccessEvent(accessRevoked(ADA, 'db:read', 'g-late', 'admin'));
    await c.fulfilment.onAccessEvent(accessGranted(ADA, 'db:read', 'g-late'));
    await c.fulfilment.onAccessEvent(accessGranted(ADA, 'db:capped', 'g-held'));
    await c.fulfilment.onAccessEvent(accessGranted(ADA, 'db:capped', 'g-held'));
    expect((await c.directory.currentAccess([ADA, MIA], new Date(NOW))).get(ADA)?.map((grant) => grant.grantId)).toEqual(['g-held']);
    expect((await c.directory.currentAccess([ADA, MIA], new Date(NOW))).get(MIA)).toEqual([]);
  });

  it('routes a request for a role as strictly as its strictest entitlement and grants all its entitlements together, each with the role', async () => {
    const c = await open();
    const { answer } = await c.requests.submit({ requesterId: ADA, target: { kind: 'role', key: 'db-team' }, justification: 'joining the db team', duration: 'PT30M' }, { actor: ADA });
    expect(answer).toMatchObject({
      target: { kind: 'role', key: 'db-team' },
      entitlements: ['db:read', 'db:owned-by-max', 'db:capped'],
      maxDuration: 'PT1H',
      steps: [
        { kind: 'manager', approverIds: [MIA], required: 1 },
        { kind: 'owner', approverIds: [OLGA, MAX], required: 2 },
        { kind: 'security', approverIds: [SEC], required: 1 },
      ],
    });
    const requestId = answer.requestId;
    await c.requests.decide({ requestId, approverId: MIA, decision: 'approve', amr: [] }, { actor: MIA });
    await c.requests.decide({ requestId, approverId: OLGA, decision: 'approve', amr: [] }, { actor: OLGA });
    expect((await c.requests.get(requestId)).answer.steps[1]).toMatchObject({ status: 'pending' });
    await c.requests.decide({ requestId, approverId: MAX, decision: 'approve', amr: [] }, { actor: MAX });
    expect((await c.requests.decide({ requestId, approverId: SEC, decision: 'approve', amr: [] }, { actor: SEC })).answer.status).toBe('approved');
    await c.view.caughtUp();
    for (const event of await c.ownEvents(requestId)) await c.fulfilment.onRequestEvent(event);
    expect(c.grantsAsked).toEqual([{ requestId, identityId: ADA, role: 'db-team', entitlements: ['db:read', 'db:owned-by-max', 'db:capped'], reason: 'joining the db team', expiresAt: expect.any(String), approvedBy: SEC }]);
    expect((await c.requests.get(requestId)).answer).toMatchObject({ status: 'fulfilled', grants: [{ entitlement: 'db:read' }, { entitlement: 'db:owned-by-max' }, { entitlement: 'db:capped' }] });
  });

  it('refuses a role the entitlement context does not know, or one that gives nothing (422 unknown-role), writing nothing', async () => {
    const c = await open();
    await expect(c.requests.submit({ requesterId: ADA, target: { kind: 'role', key: 'ghosts' }, justification: 'x' }, { actor: ADA })).rejects.toMatchObject({ code: 'unknown-role', role: 'ghosts' });
    await expect(c.requests.submit({ requesterId: ADA, target: { kind: 'role', key: 'empty' }, justification: 'x' }, { actor: ADA })).rejects.toThrow(UnknownRole);
    expect(await c.store.head()).toBeNull();
  });

  it('makes a break-glass review due after the configured window instead of PT24H', async () => {
    const c = await open();
    const used = await c.breakGlassWithWindow('PT2H').use({ identityId: ADA, entitlement: 'db:glass', justification: 'INC-9', amr: ['pwd', 'mfa'] }, { actor: ADA });
    expect(used.reviewDueAt).toBe('2026-03-02T11:00:00.000Z');
    expect((await c.scheduler.pending(`escalate-review:${used.breakGlassId}`)).map((job) => job.dueAt.toISOString())).toEqual(['2026-03-02T11:00:00.000Z']);
  });

  it('resolves a step\'s approvers when it opens: an owner changed after submission is asked, not the one routed then', async () => {
    const c = await open();
    const { answer } = await c.requests.submit({ requesterId: ADA, target: { kind: 'entitlement', key: 'db:read' }, justification: 'x' }, { actor: ADA });
    expect(answer.steps[1]).toMatchObject({ kind: 'owner', approverIds: [OLGA] });
    await c.fulfilment.onEntitlementEvent(delivered('entitlement', 'EntitlementChanged', 'entitlement-db:read', { key: 'db:read', changes: { ownerId: CYD }, changedAt: NOW, changedBy: 'admin' }, 2));
    const byMia = await c.requests.decide({ requestId: answer.requestId, approverId: MIA, decision: 'approve', amr: [] }, { actor: MIA });
    expect(byMia.answer.steps[1]).toMatchObject({ kind: 'owner', approverIds: [CYD], status: 'pending' });
    await expect(c.requests.decide({ requestId: answer.requestId, approverId: OLGA, decision: 'approve', amr: [] }, { actor: OLGA })).rejects.toThrow(NotEligibleApprover);
    await c.view.caughtUp();
    expect((await c.view.pendingFor(CYD)).map((item) => item.request.requestId)).toEqual([answer.requestId]);
    expect(await c.view.pendingFor(OLGA)).toEqual([]);
    expect((await c.requests.decide({ requestId: answer.requestId, approverId: CYD, decision: 'approve', amr: [] }, { actor: CYD })).answer.status).toBe('approved');
  });
});
