import type { DomainError } from '@custos/platform/domain';
import { deciderSpec } from '@custos/platform/domain/testing';
import type { BreakGlassEvent, RequestEvent, RoutedStep } from '@custos/request/contracts';
import { breakGlassDecider, type BreakGlassCommand, type ReviewBreakGlass } from './break-glass';
import {
  AccessNotInForce,
  AccessWithoutEnd,
  AlreadyDecided,
  BreakGlassNotAllowed,
  DurationExceedsMaximum,
  ExtensionPending,
  NotBeneficiary,
  NotEligibleApprover,
  NotRequester,
  RequestNotPending,
  ReviewCompleted,
  SodViolation,
  StepUpRequired,
  ValidationFailed,
} from './errors';
import { refusalOf } from './refusal';
import { requestDecider, type RequestCommand, type RequestState } from './request';
import {
  ADA,
  CYD,
  ENTITLEMENT,
  GROUP,
  MANAGER,
  MFA,
  NOW,
  OWNER,
  REQUEST_ID,
  SEC1,
  SEC2,
  SECURITY,
  SKIP_LEVEL,
  accessRevokedEarly,
  approvalRequested,
  approveConflict,
  at,
  breakGlassFulfilled,
  breakGlassReviewEscalated,
  breakGlassReviewRefused,
  breakGlassReviewed,
  breakGlassUsed,
  decideRequest,
  decisionRecorded,
  decisionRefused,
  delegation,
  extensionApproved,
  extensionRequested,
  fulfilledHistory,
  grantEnded,
  managerStep,
  ownerStep,
  pendingOn,
  preventConflict,
  requestApproved,
  requestDenied,
  requestEscalated,
  requestExpired,
  requestExtension,
  requestFulfilled,
  requestSubmitted,
  securityStep,
  submitRequest,
  useBreakGlass,
} from './testing/builders';

/*
 * The approval scenarios of the request context, one row each: given past events, when a
 * command, then the events decided (a refused decision is one recorded DecisionRefused) or the
 * error thrown (nothing recorded).
 */

const request = deciderSpec<RequestCommand, RequestEvent, RequestState>(requestDecider);
const breakGlass = deciderSpec(breakGlassDecider);

const groupStep: RoutedStep = { kind: 'group', approverIds: GROUP, required: 2 };
const privileged = { privileged: true, maxDuration: 'PT8H' };
const privilegedSteps = [managerStep, ownerStep, securityStep];
const sodSteps: RoutedStep[] = [managerStep, ownerStep, { ...securityStep, sodConflicts: [approveConflict] }];
const sodApprove = { outcome: 'approve' as const, violations: [approveConflict] };
const extensionRound = [
  extensionRequested(),
  approvalRequested(managerStep, { round: 1, requestedAt: at(1) }),
  decisionRecorded(MANAGER, { round: 1, decidedAt: at(1) }),
  approvalRequested(ownerStep, { round: 1, step: 1, requestedAt: at(1) }),
];

/** The history of a request whose steps up to `step` were approved, `step` open. */
function openOn(steps: RoutedStep[], step: number, submitted: Parameters<typeof pendingOn>[1] = {}): RequestEvent[] {
  const events: RequestEvent[] = [...pendingOn(steps, submitted)];
  for (let index = 0; index < step; index++) {
    events.push(decisionRecorded(steps[index].approverIds[0], { step: index }), approvalRequested(steps[index + 1], { step: index + 1 }));
  }
  return events;
}

const deny = (approverId: string, comment = 'not needed for this work') => decideRequest(approverId, { decision: 'deny', comment });
const review = (reviewerId: string, data: Partial<ReviewBreakGlass['data']> = {}): BreakGlassCommand => ({
  type: 'ReviewBreakGlass',
  data: { breakGlassId: 'bg-1', reviewerId, outcome: 'justified', comment: 'INC-99 confirmed', amr: MFA, now: at(3), ...data },
});

type Scenario = [description: string, run: () => void];
const thenError = <E extends DomainError>(code: string, check?: (error: E) => void) => (error: E) => {
  expect(error.code).toBe(code);
  check?.(error);
};

const scenarios: Scenario[] = [
  // Routing and submission
  ['submission: routed into the policy\'s steps, the first step opens naming its approvers', () =>
    request.given([]).when(submitRequest()).then([requestSubmitted(), approvalRequested(managerStep)])],
  ['role: a request for a role keeps the entitlements it gives (each once) and is routed like any other', () =>
    request.given([]).when(submitRequest({ target: { kind: 'role', key: 'payments-oncall' }, entitlements: ['erp:read', 'erp:pay', 'erp:read'] }))
      .then([requestSubmitted({ target: { kind: 'role', key: 'payments-oncall' }, entitlements: ['erp:read', 'erp:pay'] }), approvalRequested(managerStep)])],
  ['role: a role request that names none of its entitlements is refused (400), nothing recorded', () =>
    request.given([]).when(submitRequest({ target: { kind: 'role', key: 'payments-oncall' }, entitlements: [] }))
      .thenThrows(ValidationFailed, thenError('validation-failed', (e: ValidationFailed) => expect(e.errors.map((x) => x.field)).toEqual(['entitlements'])))],
  ['routing: a later step\'s approvers are resolved when it opens (the owner changed since the request was routed), and only they decide it', () => {
    const newOwner = 'id-new-owner';
    const approvers = { manager: [MANAGER], owner: [newOwner], security: SECURITY };
    const opened = approvalRequested({ ...ownerStep, approverIds: [newOwner] }, { step: 1 });
    request.given(pendingOn()).when(decideRequest(MANAGER, { approvers })).then([decisionRecorded(MANAGER), opened]);
    request.given([...pendingOn(), decisionRecorded(MANAGER), opened]).when(decideRequest(OWNER)).then([decisionRefused(OWNER, 'not-eligible-approver', { step: 1 })]);
    request.given([...pendingOn(), decisionRecorded(MANAGER), opened]).when(decideRequest(newOwner)).then([decisionRecorded(newOwner, { step: 1 }), requestApproved()]);
  }],
  ['routing: an owner who left before their step opened is replaced by the security approvers then, not waited for', () =>
    request.given(pendingOn()).when(decideRequest(MANAGER, { approvers: { manager: [MANAGER], owner: [OWNER], security: SECURITY, inactive: [OWNER] } }))
      .then([decisionRecorded(MANAGER), approvalRequested({ kind: 'security', approverIds: SECURITY, required: 1, routedFrom: 'owner' }, { step: 1 })])],
  ['routing: a step that cannot be routed again now (no security approver left for an empty step) opens as routed at submission', () =>
    request.given(pendingOn()).when(decideRequest(MANAGER, { approvers: { manager: [MANAGER], owner: [], security: [] } }))
      .then([decisionRecorded(MANAGER), approvalRequested(ownerStep, { step: 1 })])],
  ['routing: a step with no approvers (no manager) is routed to security, never skipped', () => {
    const routed: RoutedStep = { kind: 'security', approverIds: SECURITY, required: 1, routedFrom: 'manager' };
    request.given([]).when(submitRequest({ approvers: { manager: [], owner: [OWNER], security: SECURITY } }))
      .then([requestSubmitted({ steps: [routed, ownerStep] }), approvalRequested(routed)]);
  }],
  ['routing: a group step listing the beneficiary leaves them out', () => {
    const policy = { steps: [{ kind: 'group' as const, approverIds: [ADA, 'id-g1', 'id-g2'], required: 1 }] };
    const step: RoutedStep = { kind: 'group', approverIds: ['id-g1', 'id-g2'], required: 1 };
    request.given([]).when(submitRequest({ approvalPolicy: policy })).then([requestSubmitted({ approvalPolicy: policy, steps: [step] }), approvalRequested(step)]);
  }],
  ['a missing justification is refused as invalid (400), nothing recorded', () =>
    request.given([]).when(submitRequest({ justification: ' ' })).thenThrows(ValidationFailed, thenError('validation-failed', (e: ValidationFailed) => expect(e.errors).toEqual([{ field: 'justification', message: 'is required' }])))],
  ['a duration over the maximum is refused stating the maximum (PT8H for a privileged entitlement)', () =>
    request.given([]).when(submitRequest({ privileged: true, duration: 'PT9H' })).thenThrows(DurationExceedsMaximum, thenError('duration-exceeds-maximum', (e: DurationExceedsMaximum) => {
      expect(e).toMatchObject({ maxDuration: 'PT8H', duration: 'PT9H' });
      expect(e.message).toContain('at most PT8H');
    }))],
  ['a duration down to seconds (PT30S) is just in time: approval ends the grant thirty seconds later', () =>
    request.given(pendingOn([ownerStep], { duration: 'PT30S' })).when(decideRequest(OWNER))
      .then([decisionRecorded(OWNER), requestApproved({ expiresAt: '2026-03-02T09:00:30.000Z' })])],

  // Outcome: steps in order, N of M, a deny ends it
  ['single approver: the only step\'s approval approves the request', () =>
    request.given(pendingOn([ownerStep])).when(decideRequest(OWNER)).then([decisionRecorded(OWNER), requestApproved()])],
  ['multi-step: the manager\'s approval opens the owner\'s step, naming its approvers', () =>
    request.given(pendingOn()).when(decideRequest(MANAGER)).then([decisionRecorded(MANAGER), approvalRequested(ownerStep, { step: 1 })])],
  ['multi-step: the last step\'s approval approves the request', () =>
    request.given(openOn([managerStep, ownerStep], 1)).when(decideRequest(OWNER)).then([decisionRecorded(OWNER, { step: 1 }), requestApproved()])],
  ['N-of-M: one approval of a 2-of-3 group step leaves it open', () =>
    request.given(pendingOn([groupStep])).when(decideRequest('id-g1')).then([decisionRecorded('id-g1')])],
  ['N-of-M: the second distinct approval of a 2-of-3 group step approves the request', () =>
    request.given([...pendingOn([groupStep]), decisionRecorded('id-g1')]).when(decideRequest('id-g2')).then([decisionRecorded('id-g2'), requestApproved()])],
  ['N-of-M: the same approver approving again counts once (a retry records nothing)', () =>
    request.given([...pendingOn([groupStep]), decisionRecorded('id-g1')]).when(decideRequest('id-g1')).then([])],
  ['N-of-M: an approver who approved cannot deny afterwards (409)', () =>
    request.given([...pendingOn([groupStep]), decisionRecorded('id-g1')]).when(deny('id-g1')).thenThrows(AlreadyDecided, thenError('already-decided'))],
  ['deny at the first step (manager) ends the request', () =>
    request.given(pendingOn()).when(deny(MANAGER))
      .then([decisionRecorded(MANAGER, { decision: 'deny', comment: 'not needed for this work' }), requestDenied(MANAGER, { comment: 'not needed for this work' })])],
  ['deny at the second step (owner) ends the request', () =>
    request.given(openOn([managerStep, ownerStep], 1)).when(deny(OWNER))
      .then([decisionRecorded(OWNER, { step: 1, decision: 'deny', comment: 'not needed for this work' }), requestDenied(OWNER, { step: 1, comment: 'not needed for this work' })])],
  ['deny at the third step (security) of a privileged request ends it', () =>
    request.given(openOn(privilegedSteps, 2, privileged)).when(deny(SEC2))
      .then([decisionRecorded(SEC2, { step: 2, decision: 'deny', comment: 'not needed for this work' }), requestDenied(SEC2, { step: 2, comment: 'not needed for this work' })])],
  ['deny in a 2-of-3 group step ends the request even after an approval', () =>
    request.given([...pendingOn([groupStep]), decisionRecorded('id-g1')]).when(deny('id-g3'))
      .then([decisionRecorded('id-g3', { decision: 'deny', comment: 'not needed for this work' }), requestDenied('id-g3', { comment: 'not needed for this work' })])],
  ['a denied request refuses further decisions (409), recording nothing', () =>
    request.given([...pendingOn(), decisionRecorded(MANAGER, { decision: 'deny' }), requestDenied(MANAGER)]).when(decideRequest(OWNER))
      .thenThrows(RequestNotPending, thenError('request-not-pending', (e: RequestNotPending) => expect(e.status).toBe('denied')))],
  ['an approved request refuses further decisions (409), recording nothing', () =>
    request.given(fulfilledHistory()).when(decideRequest(MANAGER)).thenThrows(RequestNotPending, thenError('request-not-pending'))],

  // Who may decide: refusals are recorded
  ['self-approval refused: the beneficiary approves their own request directly (recorded)', () =>
    request.given(pendingOn()).when(decideRequest(ADA)).then([decisionRefused(ADA, 'self-approval')])],
  ['self-approval refused: the requester approves a request they raised for someone else (recorded)', () =>
    request.given(pendingOn(undefined, { requesterId: CYD })).when(decideRequest(CYD)).then([decisionRefused(CYD, 'self-approval')])],
  ['self-approval refused by delegation: the beneficiary as the manager\'s delegate (recorded)', () =>
    request.given(pendingOn()).when(decideRequest(ADA, { delegations: [delegation({ delegateId: ADA })] })).then([decisionRefused(ADA, 'self-approval')])],
  ['self-approval refused by delegation: a delegate deciding in the beneficiary\'s place (recorded)', () =>
    request.given(pendingOn()).when(decideRequest(CYD, { delegations: [delegation({ approverId: ADA })] })).then([decisionRefused(CYD, 'self-approval', { onBehalfOf: ADA })])],
  ['self-approval refused through a group: the beneficiary is a member of the group step (recorded)', () =>
    request.given(pendingOn([{ kind: 'group', approverIds: ['id-g1', 'id-g2'], required: 1 }])).when(decideRequest(ADA)).then([decisionRefused(ADA, 'self-approval')])],
  ['ineligible approver refused: the owner cannot decide the manager\'s step (recorded)', () =>
    request.given(pendingOn()).when(decideRequest(OWNER)).then([decisionRefused(OWNER, 'not-eligible-approver')])],
  ['ineligible approver refused: a delegation that has lapsed gives no authority (recorded)', () =>
    request.given(pendingOn()).when(decideRequest(CYD, { delegations: [delegation({ until: at(-1) })] })).then([decisionRefused(CYD, 'not-eligible-approver')])],
  ['privileged without MFA refused: step-up required (recorded)', () =>
    request.given(openOn(privilegedSteps, 2, privileged)).when(decideRequest(SEC1, { amr: ['pwd'] })).then([decisionRefused(SEC1, 'step-up-required', { step: 2 })])],
  ['privileged with MFA: the security step\'s approval approves the request', () =>
    request.given(openOn(privilegedSteps, 2, privileged)).when(decideRequest(SEC1)).then([decisionRecorded(SEC1, { step: 2 }), requestApproved(privileged)])],

  // Separation of duties
  ['SoD prevent: the request is refused (422) naming the conflicting entitlements', () =>
    request.given([]).when(submitRequest({ sod: { outcome: 'prevent', violations: [preventConflict] } }))
      .thenThrows(SodViolation, thenError('sod-violation', (e: SodViolation) => expect(e.entitlements).toEqual(['erp:vendor-create', 'erp:payment-approve'])))],
  ['SoD with exception: an approve conflict adds a security step that accepts it', () =>
    request.given([]).when(submitRequest({ sod: sodApprove })).then([requestSubmitted({ sod: sodApprove, steps: sodSteps }), approvalRequested(managerStep)])],
  ['SoD with exception: approving the exception without a justification is refused (400)', () =>
    request.given(openOn(sodSteps, 2, { sod: sodApprove })).when(decideRequest(SEC1))
      .thenThrows(ValidationFailed, thenError('validation-failed', (e: ValidationFailed) => expect(e.errors[0].field).toBe('exceptionJustification')))],
  ['SoD with exception: the justified approval approves the request with the exception for the grant', () =>
    request.given(openOn(sodSteps, 2, { sod: sodApprove })).when(decideRequest(SEC1, { exceptionJustification: 'month-end close, FIN-7' }))
      .then([
        decisionRecorded(SEC1, { step: 2, exceptionJustification: 'month-end close, FIN-7' }),
        requestApproved({ sodException: { conflicts: [approveConflict], reason: 'month-end close, FIN-7', approvedBy: SEC1 } }),
      ])],

  // Escalation and expiry
  ['escalation: a step pending past its SLA escalates to the approver\'s manager', () =>
    request.given(pendingOn()).when({ type: 'EscalateRequest', data: { requestId: REQUEST_ID, round: 0, step: 0, escalateTo: [SKIP_LEVEL], now: at(48) } }).then([requestEscalated()])],
  ['escalation: before its SLA a step does not escalate', () =>
    request.given(pendingOn()).when({ type: 'EscalateRequest', data: { requestId: REQUEST_ID, round: 0, step: 0, escalateTo: [SKIP_LEVEL], now: at(47) } }).then([])],
  ['escalation: the manager it escalated to decides the step', () =>
    request.given([...pendingOn(), requestEscalated()]).when(decideRequest(SKIP_LEVEL, { now: at(50) }))
      .then([decisionRecorded(SKIP_LEVEL, { decidedAt: at(50) }), approvalRequested(ownerStep, { step: 1, requestedAt: at(50) })])],
  ['expiry: after the second SLA the pending request expires', () =>
    request.given([...pendingOn(), requestEscalated()]).when({ type: 'ExpireRequest', data: { requestId: REQUEST_ID, round: 0, now: at(96) } }).then([requestExpired()])],
  ['expiry: a request approved in time does not expire', () =>
    request.given(fulfilledHistory()).when({ type: 'ExpireRequest', data: { requestId: REQUEST_ID, round: 0, now: at(96) } }).then([])],

  // Delegation
  ['delegation: the manager\'s delegate approves in the manager\'s place', () =>
    request.given(pendingOn()).when(decideRequest(CYD, { delegations: [delegation()] }))
      .then([decisionRecorded(CYD, { onBehalfOf: MANAGER }), approvalRequested(ownerStep, { step: 1 })])],
  ['delegation: an approver and their delegate count once in an N-of-M step (409)', () =>
    request.given([...pendingOn([groupStep]), decisionRecorded('id-g1')]).when(decideRequest(CYD, { delegations: [delegation({ approverId: 'id-g1' })] }))
      .thenThrows(AlreadyDecided, thenError('already-decided'))],

  // Cancel
  ['cancel: the requester withdraws a pending request', () =>
    request.given(pendingOn()).when({ type: 'CancelRequest', data: { requestId: REQUEST_ID, cancelledBy: ADA, now: at(1) } })
      .then([{ type: 'RequestCancelled', data: { requestId: REQUEST_ID, cancelledBy: ADA, cancelledAt: at(1) } }])],
  ['cancel: nobody but the requester cancels (403)', () =>
    request.given(pendingOn()).when({ type: 'CancelRequest', data: { requestId: REQUEST_ID, cancelledBy: MANAGER, now: at(1) } }).thenThrows(NotRequester, thenError('not-requester'))],

  // Just in time: fulfilment, the grant's end
  ['just in time: fulfilment records the grant and its end', () =>
    request.given(fulfilledHistory().slice(0, -1))
      .when({ type: 'RecordFulfilment', data: { requestId: REQUEST_ID, round: 0, grants: [{ grantId: 'grant-1', entitlement: ENTITLEMENT, expiresAt: at(4) }], now: NOW } })
      .then([requestFulfilled()])],
  ['JIT expiry: the request records the grant\'s end at its expiry', () =>
    request.given(fulfilledHistory()).when({ type: 'RecordGrantEnded', data: { requestId: REQUEST_ID, grantId: 'grant-1', reason: 'expired', now: at(4) } }).then([grantEnded()])],
  ['JIT expiry: the end recorded again after a restart records nothing (exactly once)', () =>
    request.given([...fulfilledHistory(), grantEnded()]).when({ type: 'RecordGrantEnded', data: { requestId: REQUEST_ID, grantId: 'grant-1', reason: 'expired', now: at(5) } }).then([])],
  ['JIT expiry: access that has ended cannot be extended (409)', () =>
    request.given([...fulfilledHistory(), grantEnded()]).when(requestExtension()).thenThrows(AccessNotInForce, thenError('access-not-in-force', (e: AccessNotInForce) => expect(e.status).toBe('ended')))],

  // Extension
  ['extension: the beneficiary asks for more time and a new round opens through the same steps', () =>
    request.given(fulfilledHistory()).when(requestExtension()).then([extensionRequested(), approvalRequested(managerStep, { round: 1, requestedAt: at(1) })])],
  ['extension: the round\'s last approval extends until approval time plus its duration', () =>
    request.given([...fulfilledHistory(), ...extensionRound]).when(decideRequest(OWNER, { now: at(2) }))
      .then([decisionRecorded(OWNER, { round: 1, step: 1, decidedAt: at(2) }), extensionApproved()])],
  ['extension: its fulfilment records the new grant and the later end', () =>
    request.given([...fulfilledHistory(), ...extensionRound, decisionRecorded(OWNER, { round: 1, step: 1, decidedAt: at(2) }), extensionApproved()])
      .when({ type: 'RecordFulfilment', data: { requestId: REQUEST_ID, round: 1, grants: [{ grantId: 'grant-2', entitlement: ENTITLEMENT, expiresAt: at(5) }], now: at(2) } })
      .then([requestFulfilled({ round: 1, grants: [{ grantId: 'grant-2', entitlement: ENTITLEMENT, expiresAt: at(5) }], fulfilledAt: at(2) })])],
  ['extension: a denied extension leaves the access to its end', () =>
    request.given([...fulfilledHistory(), ...extensionRound]).when(deny(OWNER)).then([
      decisionRecorded(OWNER, { round: 1, step: 1, decision: 'deny', comment: 'not needed for this work' }),
      { type: 'ExtensionDenied', data: { requestId: REQUEST_ID, round: 1, step: 1, deniedBy: OWNER, comment: 'not needed for this work', deniedAt: NOW } },
    ])],
  ['extension: over the request\'s maximum it is refused stating the maximum', () =>
    request.given(fulfilledHistory({ maxDuration: 'PT4H' })).when(requestExtension({ duration: 'PT5H' }))
      .thenThrows(DurationExceedsMaximum, thenError('duration-exceeds-maximum', (e: DurationExceedsMaximum) => expect(e.maxDuration).toBe('PT4H')))],
  ['extension: access granted without an end has nothing to extend (409)', () =>
    request.given([...fulfilledHistory(), requestFulfilled({ round: 0, grants: [{ grantId: 'grant-1', entitlement: ENTITLEMENT }] })]).when(requestExtension())
      .thenThrows(AccessWithoutEnd, thenError('access-without-end'))],
  ['extension: an approver of the round may not be the beneficiary asking for it (403, recorded)', () =>
    request.given([...fulfilledHistory(), extensionRequested(), approvalRequested({ ...managerStep, approverIds: [ADA, MANAGER] }, { round: 1, requestedAt: at(1) })])
      .when(decideRequest(ADA, { now: at(1) }))
      .then([decisionRefused(ADA, 'self-approval', { round: 1, refusedAt: at(1) })])],
  ['extension: the extended grant (same id, later end) is recorded as the request\'s new end', () => {
    const history = [...fulfilledHistory(), ...extensionRound, decisionRecorded(OWNER, { round: 1, step: 1, decidedAt: at(2) }), extensionApproved(),
      requestFulfilled({ round: 1, grants: [{ grantId: 'grant-1', entitlement: ENTITLEMENT, expiresAt: at(5) }], fulfilledAt: at(2) })];
    expect(history.reduce(requestDecider.evolve, requestDecider.initialState())).toMatchObject({ kind: 'FulfilledRequest', expiresAt: at(5), grants: [{ grantId: 'grant-1', expiresAt: at(5), round: 1 }] });
  }],
  ['extension: nobody but the beneficiary asks for one, and a stranger learns nothing of the request\'s state (403, not 409)', () =>
    request.given([...fulfilledHistory(), grantEnded()]).when(requestExtension({ requestedBy: 'id-stranger' })).thenThrows(NotBeneficiary, thenError('not-beneficiary'))],
  ['extension: a second one while a round is pending is refused (409)', () =>
    request.given([...fulfilledHistory(), ...extensionRound]).when(requestExtension()).thenThrows(ExtensionPending, thenError('extension-pending'))],

  // Early revoke
  ['early revoke: the beneficiary gives the access back before its end', () =>
    request.given(fulfilledHistory()).when({ type: 'RevokeEarly', data: { requestId: REQUEST_ID, revokedBy: ADA, now: at(1) } }).then([accessRevokedEarly()])],
  ['early revoke: nobody but the beneficiary gives it back (403)', () =>
    request.given(fulfilledHistory()).when({ type: 'RevokeEarly', data: { requestId: REQUEST_ID, revokedBy: MANAGER, now: at(1) } }).thenThrows(NotBeneficiary, thenError('not-beneficiary'))],
  ['early revoke: a stranger repeating the beneficiary\'s revoke learns nothing (403, not the repeat\'s silence)', () =>
    request.given([...fulfilledHistory(), accessRevokedEarly()]).when({ type: 'RevokeEarly', data: { requestId: REQUEST_ID, revokedBy: 'id-stranger', now: at(2) } }).thenThrows(NotBeneficiary, thenError('not-beneficiary'))],
  ['cancel: a stranger repeating the requester\'s cancel learns nothing (403, not the repeat\'s silence)', () =>
    request.given([...pendingOn(), { type: 'RequestCancelled', data: { requestId: REQUEST_ID, cancelledBy: ADA, cancelledAt: at(1) } }]).when({ type: 'CancelRequest', data: { requestId: REQUEST_ID, cancelledBy: 'id-stranger', now: at(2) } }).thenThrows(NotRequester, thenError('not-requester'))],
  ['a stranger deciding a request no longer pending learns nothing of its state (403 not-eligible-approver, not 409)', () =>
    request.given(fulfilledHistory()).when(decideRequest('id-stranger')).thenThrows(NotEligibleApprover, thenError('not-eligible-approver'))],
  ['early revoke: the revoked grant\'s end ends the request, and a second revoke records nothing', () => {
    const history = [...fulfilledHistory(), accessRevokedEarly(), grantEnded({ reason: 'revoked', endedAt: at(1) })];
    request.given(history).when({ type: 'RevokeEarly', data: { requestId: REQUEST_ID, revokedBy: ADA, now: at(2) } }).then([]);
    expect(history.reduce(requestDecider.evolve, requestDecider.initialState()).kind).toBe('EndedRequest');
  }],

  // Break-glass and its review
  ['break-glass: an entitlement marked breakGlass is granted at once, for PT1H by default, its review due within PT24H', () =>
    breakGlass.given([]).when(useBreakGlass()).then([breakGlassUsed()])],
  ['break-glass: refused for an entitlement not marked breakGlass (422)', () =>
    breakGlass.given([]).when(useBreakGlass({ breakGlass: false })).thenThrows(BreakGlassNotAllowed, thenError('break-glass-not-allowed'))],
  ['break-glass: refused over its maximum duration, stating it', () =>
    breakGlass.given([]).when(useBreakGlass({ duration: 'PT2H' })).thenThrows(DurationExceedsMaximum, thenError('duration-exceeds-maximum', (e: DurationExceedsMaximum) => expect(e.maxDuration).toBe('PT1H')))],
  ['break-glass: a privileged entitlement needs a multi-factor login to break the glass', () =>
    breakGlass.given([]).when(useBreakGlass({ amr: ['pwd'] })).thenThrows(StepUpRequired, thenError('step-up-required'))],
  ['break-glass review completed: a security approver finds the use justified', () =>
    breakGlass.given([breakGlassUsed(), breakGlassFulfilled()]).when(review(SEC1)).then([breakGlassReviewed()])],
  ['break-glass review completed: a security approver finds the use not justified', () =>
    breakGlass.given([breakGlassUsed()]).when(review(SEC2, { outcome: 'not-justified', comment: 'no incident on record' }))
      .then([breakGlassReviewed({ reviewerId: SEC2, outcome: 'not-justified', comment: 'no incident on record' })])],
  ['break-glass review: the user cannot review their own use (recorded)', () =>
    breakGlass.given([breakGlassUsed()]).when(review(ADA)).then([breakGlassReviewRefused(ADA, 'self-approval')])],
  ['break-glass review escalated: not reviewed within PT24H it escalates', () =>
    breakGlass.given([breakGlassUsed()]).when({ type: 'EscalateBreakGlassReview', data: { breakGlassId: 'bg-1', escalateTo: [SKIP_LEVEL], now: at(24) } })
      .then([breakGlassReviewEscalated()])],
  ['break-glass review escalated: the one it escalated to completes it', () =>
    breakGlass.given([breakGlassUsed(), breakGlassReviewEscalated()]).when(review(SKIP_LEVEL, { now: at(30) }))
      .then([breakGlassReviewed({ reviewerId: SKIP_LEVEL, reviewedAt: at(30) })])],
  ['break-glass review: completed once (409)', () =>
    breakGlass.given([breakGlassUsed(), breakGlassReviewed()]).when(review(SEC2, { outcome: 'not-justified' })).thenThrows(ReviewCompleted, thenError('review-completed'))],
];

describe('approval scenarios', () => {
  it('gives each scenario a unique description', () => {
    const descriptions = scenarios.map(([description]) => description);
    expect(new Set(descriptions).size).toBe(descriptions.length);
  });

  it.each(scenarios)('%s', (_description, run) => run());
});

describe('recorded refusals', () => {
  it.each<[string, RequestEvent | BreakGlassEvent, string]>([
    ['a self-approval', decisionRefused(ADA, 'self-approval'), 'self-approval'],
    ['an ineligible approver', decisionRefused(OWNER, 'not-eligible-approver'), 'not-eligible-approver'],
    ['a decision without step-up', decisionRefused(SEC1, 'step-up-required'), 'step-up-required'],
    ['a self-review of break-glass', breakGlassReviewRefused(ADA, 'self-approval'), 'self-approval'],
  ])('refusalOf answers %s with the error of its reason', (_description, event, code) => {
    expect(refusalOf([event])).toMatchObject({ code });
  });

  it('refusalOf finds no refusal among decided events', () => {
    expect(refusalOf([decisionRecorded(MANAGER), approvalRequested(ownerStep, { step: 1 })])).toBeUndefined();
  });
});
