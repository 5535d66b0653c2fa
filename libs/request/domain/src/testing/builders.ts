import type {
  AccessRevokedEarly,
  ApprovalRequested,
  BreakGlassFulfilled,
  BreakGlassReviewed,
  BreakGlassReviewEscalated,
  BreakGlassReviewRefused,
  BreakGlassUsed,
  DecisionRecorded,
  DecisionRefused,
  Delegation,
  DelegationEnded,
  DelegationGranted,
  ExtensionApproved,
  ExtensionRequested,
  FulfilmentRefused,
  GrantEnded,
  RequestApproved,
  RequestDenied,
  RequestEscalated,
  RequestExpired,
  RequestFulfilled,
  RequestSubmitted,
  RoutedStep,
  SodConflict,
} from '@custos/request/contracts';
import type { UseBreakGlass } from '../break-glass/commands';
import type { DecideRequest, RequestExtension, SubmitRequest } from '../request/commands';

/** The fixed `now` of every spec, and times after it. */
export const NOW = '2026-03-02T09:00:00.000Z';
export const at = (hours: number, minutes = 0): string => new Date(Date.parse(NOW) + (hours * 60 + minutes) * 60_000).toISOString();

export const REQUEST_ID = 'req-1';
export const ENTITLEMENT = 'github:org-admin';
/** The beneficiary, who by default raised the request too. */
export const ADA = 'id-ada';
/** A colleague: a requester on Ada's behalf, a delegate, a stranger. */
export const CYD = 'id-cyd';
export const MANAGER = 'id-mia';
export const OWNER = 'id-olu';
export const SEC1 = 'id-sec1';
export const SEC2 = 'id-sec2';
export const SECURITY = [SEC1, SEC2];
export const GROUP = ['id-g1', 'id-g2', 'id-g3'];
/** The manager of Mia, the manager (an escalation's target). */
export const SKIP_LEVEL = 'id-skip';
export const MFA = ['pwd', 'mfa'];

export const managerStep: RoutedStep = { kind: 'manager', approverIds: [MANAGER], required: 1 };
export const ownerStep: RoutedStep = { kind: 'owner', approverIds: [OWNER], required: 1 };
export const securityStep: RoutedStep = { kind: 'security', approverIds: SECURITY, required: 1 };

export const approveConflict: SodConflict = { policyKey: 'pay-vs-approve', mode: 'approve', severity: 'high', left: ['erp:vendor-create'], right: ['erp:payment-approve'] };
export const preventConflict: SodConflict = { ...approveConflict, policyKey: 'pay-vs-approve-strict', mode: 'prevent' };

/** Ada asks for github:org-admin (not privileged) for PT4H: manager then owner, one approval each, no SoD conflict. */
export function submitRequest(data: Partial<SubmitRequest['data']> = {}): SubmitRequest {
  return {
    type: 'SubmitRequest',
    data: {
      requestId: REQUEST_ID,
      requesterId: ADA,
      beneficiaryId: ADA,
      target: { kind: 'entitlement', key: ENTITLEMENT },
      justification: 'incident INC-42 needs the org settings',
      duration: 'PT4H',
      privileged: false,
      approvalPolicy: { steps: [{ kind: 'manager', required: 1 }, { kind: 'owner', required: 1 }] },
      approvers: { manager: [MANAGER], owner: [OWNER], security: SECURITY },
      sod: { outcome: 'allow', violations: [] },
      now: NOW,
      ...data,
    },
  };
}

/** The RequestSubmitted that submitRequest() gives. */
export function requestSubmitted(data: Partial<RequestSubmitted['data']> = {}): RequestSubmitted {
  return {
    type: 'RequestSubmitted',
    data: {
      requestId: REQUEST_ID,
      requesterId: ADA,
      beneficiaryId: ADA,
      target: { kind: 'entitlement', key: ENTITLEMENT },
      justification: 'incident INC-42 needs the org settings',
      duration: 'PT4H',
      privileged: false,
      approvalSla: 'PT48H',
      approvalPolicy: { steps: [{ kind: 'manager', required: 1 }, { kind: 'owner', required: 1 }] },
      sod: { outcome: 'allow', violations: [] },
      steps: [managerStep, ownerStep],
      submittedAt: NOW,
      ...data,
    },
  };
}

/** The ApprovalRequested of a step opened at `requestedAt` (NOW) with the default SLA of PT48H. */
export function approvalRequested(step: RoutedStep, data: Partial<ApprovalRequested['data']> = {}): ApprovalRequested {
  const requestedAt = data.requestedAt ?? NOW;
  const hoursAfter = (hours: number) => new Date(Date.parse(requestedAt) + hours * 3_600_000).toISOString();
  return {
    type: 'ApprovalRequested',
    data: {
      requestId: REQUEST_ID,
      round: 0,
      step: 0,
      kind: step.kind,
      ...(step.routedFrom !== undefined && { routedFrom: step.routedFrom }),
      approverIds: step.approverIds,
      required: step.required,
      sodExceptionRequired: (step.sodConflicts?.length ?? 0) > 0,
      requestedAt,
      escalationDueAt: hoursAfter(48),
      expiryDueAt: hoursAfter(96),
      ...data,
    },
  };
}

/** A pending request on its first step: RequestSubmitted with `steps` and the first step's ApprovalRequested. */
export function pendingOn(steps: RoutedStep[] = [managerStep, ownerStep], data: Partial<RequestSubmitted['data']> = {}): [RequestSubmitted, ApprovalRequested] {
  return [requestSubmitted({ steps, ...data }), approvalRequested(steps[0])];
}

/** `approverId` approves (with MFA, no delegation) at NOW. */
export function decideRequest(approverId: string, data: Partial<DecideRequest['data']> = {}): DecideRequest {
  return { type: 'DecideRequest', data: { requestId: REQUEST_ID, approverId, decision: 'approve', amr: MFA, delegations: [], now: NOW, ...data } };
}

export function decisionRecorded(approverId: string, data: Partial<DecisionRecorded['data']> = {}): DecisionRecorded {
  return { type: 'DecisionRecorded', data: { requestId: REQUEST_ID, round: 0, step: 0, approverId, decision: 'approve', amr: MFA, decidedAt: NOW, ...data } };
}

export function decisionRefused(approverId: string, reason: DecisionRefused['data']['reason'], data: Partial<DecisionRefused['data']> = {}): DecisionRefused {
  return { type: 'DecisionRefused', data: { requestId: REQUEST_ID, round: 0, step: 0, approverId, decision: 'approve', reason, refusedAt: NOW, ...data } };
}

/** Round 0 approved at NOW: the grant runs PT4H. */
export function requestApproved(data: Partial<RequestApproved['data']> = {}): RequestApproved {
  return {
    type: 'RequestApproved',
    data: {
      requestId: REQUEST_ID,
      beneficiaryId: ADA,
      target: { kind: 'entitlement', key: ENTITLEMENT },
      privileged: false,
      justification: 'incident INC-42 needs the org settings',
      expiresAt: at(4),
      approvedAt: NOW,
      ...data,
    },
  };
}

export function requestDenied(deniedBy: string, data: Partial<RequestDenied['data']> = {}): RequestDenied {
  return { type: 'RequestDenied', data: { requestId: REQUEST_ID, round: 0, step: 0, deniedBy, deniedAt: NOW, ...data } };
}

export function requestEscalated(data: Partial<RequestEscalated['data']> = {}): RequestEscalated {
  return { type: 'RequestEscalated', data: { requestId: REQUEST_ID, round: 0, step: 0, escalatedTo: [SKIP_LEVEL], escalatedAt: at(48), expiryDueAt: at(96), ...data } };
}

export function requestExpired(data: Partial<RequestExpired['data']> = {}): RequestExpired {
  return { type: 'RequestExpired', data: { requestId: REQUEST_ID, round: 0, step: 0, expiredAt: at(96), ...data } };
}

export function requestFulfilled(data: Partial<RequestFulfilled['data']> = {}): RequestFulfilled {
  return { type: 'RequestFulfilled', data: { requestId: REQUEST_ID, round: 0, grants: [{ grantId: 'grant-1', entitlement: ENTITLEMENT, expiresAt: at(4) }], fulfilledAt: NOW, ...data } };
}

export function fulfilmentRefused(data: Partial<FulfilmentRefused['data']> = {}): FulfilmentRefused {
  return {
    type: 'FulfilmentRefused',
    data: { requestId: REQUEST_ID, round: 0, code: 'sod-violation', reason: 'separation of duties: pay-vs-approve-strict (erp:vendor-create, erp:payment-approve)', refusedAt: at(1), ...data },
  };
}

export function grantEnded(data: Partial<GrantEnded['data']> = {}): GrantEnded {
  return { type: 'GrantEnded', data: { requestId: REQUEST_ID, grantId: 'grant-1', entitlement: ENTITLEMENT, reason: 'expired', endedAt: at(4), ...data } };
}

export function accessRevokedEarly(data: Partial<AccessRevokedEarly['data']> = {}): AccessRevokedEarly {
  return { type: 'AccessRevokedEarly', data: { requestId: REQUEST_ID, beneficiaryId: ADA, grantIds: ['grant-1'], revokedBy: ADA, revokedAt: at(1), ...data } };
}

/** The whole of round 0 of the default request, approved by manager and owner and granted as grant-1 until NOW + PT4H. */
export function fulfilledHistory(
  submitted: Partial<RequestSubmitted['data']> = {},
): Array<RequestSubmitted | ApprovalRequested | DecisionRecorded | RequestApproved | RequestFulfilled> {
  return [
    ...pendingOn(undefined, submitted),
    decisionRecorded(MANAGER),
    approvalRequested(ownerStep, { step: 1 }),
    decisionRecorded(OWNER, { step: 1 }),
    requestApproved(),
    requestFulfilled(),
  ];
}

/** Ada asks at +1h for PT3H more. */
export function requestExtension(data: Partial<RequestExtension['data']> = {}): RequestExtension {
  return {
    type: 'RequestExtension',
    data: {
      requestId: REQUEST_ID,
      requestedBy: ADA,
      duration: 'PT3H',
      justification: 'the incident is not closed yet',
      approvers: { manager: [MANAGER], owner: [OWNER], security: SECURITY },
      now: at(1),
      ...data,
    },
  };
}

export function extensionRequested(data: Partial<ExtensionRequested['data']> = {}): ExtensionRequested {
  return {
    type: 'ExtensionRequested',
    data: { requestId: REQUEST_ID, round: 1, requestedBy: ADA, duration: 'PT3H', justification: 'the incident is not closed yet', steps: [managerStep, ownerStep], requestedAt: at(1), ...data },
  };
}

export function extensionApproved(data: Partial<ExtensionApproved['data']> = {}): ExtensionApproved {
  return {
    type: 'ExtensionApproved',
    data: {
      requestId: REQUEST_ID,
      round: 1,
      beneficiaryId: ADA,
      target: { kind: 'entitlement', key: ENTITLEMENT },
      privileged: false,
      justification: 'the incident is not closed yet',
      expiresAt: at(5),
      approvedAt: at(2),
      ...data,
    },
  };
}

export function delegation(data: Partial<Delegation> = {}): Delegation {
  return { delegationId: 'del-1', approverId: MANAGER, delegateId: CYD, from: at(-24), until: at(24 * 7), ...data };
}

export function delegationGranted(data: Partial<DelegationGranted['data']> = {}): DelegationGranted {
  return { type: 'DelegationGranted', data: { ...delegation(), grantedAt: at(-24), ...data } };
}

export function delegationEnded(data: Partial<DelegationEnded['data']> = {}): DelegationEnded {
  return { type: 'DelegationEnded', data: { delegationId: 'del-1', approverId: MANAGER, delegateId: CYD, endedBy: MANAGER, endedAt: NOW, ...data } };
}

export const BREAK_GLASS_ID = 'bg-1';
export const BREAK_GLASS_ENTITLEMENT = 'aws:prod-admin';

/** Ada breaks the glass on aws:prod-admin (privileged, marked breakGlass) with MFA, for the default PT1H. */
export function useBreakGlass(data: Partial<UseBreakGlass['data']> = {}): UseBreakGlass {
  return {
    type: 'UseBreakGlass',
    data: {
      breakGlassId: BREAK_GLASS_ID,
      identityId: ADA,
      entitlement: BREAK_GLASS_ENTITLEMENT,
      justification: 'production is down, INC-99',
      breakGlass: true,
      privileged: true,
      amr: MFA,
      securityApprovers: SECURITY,
      now: NOW,
      ...data,
    },
  };
}

export function breakGlassUsed(data: Partial<BreakGlassUsed['data']> = {}): BreakGlassUsed {
  return {
    type: 'BreakGlassUsed',
    data: {
      breakGlassId: BREAK_GLASS_ID,
      identityId: ADA,
      entitlement: BREAK_GLASS_ENTITLEMENT,
      justification: 'production is down, INC-99',
      duration: 'PT1H',
      expiresAt: at(1),
      privileged: true,
      reviewerIds: SECURITY,
      reviewDueAt: at(24),
      usedAt: NOW,
      ...data,
    },
  };
}

export function breakGlassFulfilled(data: Partial<BreakGlassFulfilled['data']> = {}): BreakGlassFulfilled {
  return { type: 'BreakGlassFulfilled', data: { breakGlassId: BREAK_GLASS_ID, grantId: 'grant-bg', entitlement: BREAK_GLASS_ENTITLEMENT, expiresAt: at(1), fulfilledAt: NOW, ...data } };
}

export function breakGlassReviewed(data: Partial<BreakGlassReviewed['data']> = {}): BreakGlassReviewed {
  return { type: 'BreakGlassReviewed', data: { breakGlassId: BREAK_GLASS_ID, reviewerId: SEC1, outcome: 'justified', comment: 'INC-99 confirmed', reviewedAt: at(3), ...data } };
}

export function breakGlassReviewEscalated(data: Partial<BreakGlassReviewEscalated['data']> = {}): BreakGlassReviewEscalated {
  return { type: 'BreakGlassReviewEscalated', data: { breakGlassId: BREAK_GLASS_ID, escalatedTo: [SKIP_LEVEL], escalatedAt: at(24), ...data } };
}

export function breakGlassReviewRefused(reviewerId: string, reason: BreakGlassReviewRefused['data']['reason'], data: Partial<BreakGlassReviewRefused['data']> = {}): BreakGlassReviewRefused {
  return { type: 'BreakGlassReviewRefused', data: { breakGlassId: BREAK_GLASS_ID, reviewerId, reason, refusedAt: at(3), ...data } };
}
