import type { ApproverKind, RequestEvent, RequestTarget, RoutedStep, SodConflict } from '@custos/request/contracts';
import { requestDecider, roundOutcome, statusOf, type RequestState, type StepDecision } from '@custos/request/domain';

export type StepStatus = 'approved' | 'pending' | 'denied' | 'waiting' | 'closed';

/** One decision as the audit trail shows it. */
export interface DecisionAnswer {
  approverId: string;
  onBehalfOf?: string;
  decision: 'approve' | 'deny';
  comment?: string;
  exceptionJustification?: string;
  decidedAt: string;
}

export interface StepAnswer {
  kind: ApproverKind;
  routedFrom?: ApproverKind;
  /** Who could decide the step, frozen when the request was routed. */
  approverIds: string[];
  required: number;
  status: StepStatus;
  sodConflicts?: SodConflict[];
  /** The managers the step escalated to, once it waited past its SLA. */
  escalatedTo?: string[];
  /** When the step opened (ApprovalRequested), and when it escalates and expires if still open. */
  requestedAt?: string;
  escalationDueAt?: string;
  expiryDueAt?: string;
  decisions: DecisionAnswer[];
}

export interface GrantAnswer {
  grantId: string;
  entitlement: string;
  expiresAt?: string;
  endedAt?: string;
}

/** An access request as GET /requests/{id} answers it: its steps, every decision, and its grant once fulfilled. */
export interface RequestAnswer {
  requestId: string;
  /** pending, approved, denied, cancelled, expired (no decision in time), refused (approved, but the grant was refused), fulfilled, revoked (given back early) or ended (its grant ended). */
  status: string;
  requesterId: string;
  beneficiaryId: string;
  target: RequestTarget;
  justification: string;
  duration?: string;
  privileged: boolean;
  maxDuration?: string;
  approvalSla: string;
  submittedAt: string;
  steps: StepAnswer[];
  /** The first grant (a request for an entitlement has one). */
  grantId?: string;
  grants?: GrantAnswer[];
  /** When the access ends, once granted (absent: no end). */
  expiresAt?: string;
  /** When the request was approved, denied, cancelled, expired, fulfilled or its access ended. */
  approvedAt?: string;
  deniedAt?: string;
  cancelledAt?: string;
  expiredAt?: string;
  fulfilledAt?: string;
  endedAt?: string;
  /** Refused: the entitlement context refused to grant what was approved (its error code and message). */
  refusedAt?: string;
  fulfilmentRefusal?: { code: string; reason: string };
}

/** The request's state (its decider's fold) and its answer, from its events. */
export function describeRequest(events: readonly RequestEvent[]): { state: RequestState; answer?: RequestAnswer } {
  const state = events.reduce(requestDecider.evolve, requestDecider.initialState());
  const submitted = events.find((event) => event.type === 'RequestSubmitted');
  if (!submitted || submitted.type !== 'RequestSubmitted') return { state };
  const s = submitted.data;
  const status = answerStatus(state);
  const steps: StepAnswer[] = s.steps.map((step: RoutedStep) => ({
    kind: step.kind,
    ...(step.routedFrom !== undefined && { routedFrom: step.routedFrom }),
    approverIds: step.approverIds,
    required: step.required,
    status: 'waiting' as StepStatus,
    ...(step.sodConflicts !== undefined && { sodConflicts: step.sodConflicts }),
    decisions: [],
  }));
  const decisions: StepDecision[] = [];
  const answer: RequestAnswer = {
    requestId: s.requestId,
    status,
    requesterId: s.requesterId,
    beneficiaryId: s.beneficiaryId,
    target: s.target,
    justification: s.justification,
    ...(s.duration !== undefined && { duration: s.duration }),
    privileged: s.privileged,
    ...(s.maxDuration !== undefined && { maxDuration: s.maxDuration }),
    approvalSla: s.approvalSla,
    submittedAt: s.submittedAt,
    steps,
  };
  for (const event of events) {
    switch (event.type) {
      case 'ApprovalRequested':
        if (event.data.round === 0 && steps[event.data.step]) {
          Object.assign(steps[event.data.step], { requestedAt: event.data.requestedAt, escalationDueAt: event.data.escalationDueAt, expiryDueAt: event.data.expiryDueAt });
        }
        break;
      case 'RequestEscalated':
        if (event.data.round === 0 && steps[event.data.step]) steps[event.data.step].escalatedTo = event.data.escalatedTo;
        break;
      case 'DecisionRecorded': {
        if (event.data.round !== 0 || !steps[event.data.step]) break;
        const d = event.data;
        decisions.push({ step: d.step, approverId: d.approverId, ...(d.onBehalfOf !== undefined && { onBehalfOf: d.onBehalfOf }), decision: d.decision });
        steps[d.step].decisions.push({
          approverId: d.approverId,
          ...(d.onBehalfOf !== undefined && { onBehalfOf: d.onBehalfOf }),
          decision: d.decision,
          ...(d.comment !== undefined && { comment: d.comment }),
          ...(d.exceptionJustification !== undefined && { exceptionJustification: d.exceptionJustification }),
          decidedAt: d.decidedAt,
        });
        break;
      }
      case 'RequestApproved':
        answer.approvedAt = event.data.approvedAt;
        break;
      case 'RequestDenied':
        answer.deniedAt = event.data.deniedAt;
        break;
      case 'RequestCancelled':
        answer.cancelledAt = event.data.cancelledAt;
        break;
      case 'RequestExpired':
        answer.expiredAt = event.data.expiredAt;
        break;
      case 'RequestFulfilled':
        answer.fulfilledAt ??= event.data.fulfilledAt;
        break;
      case 'FulfilmentRefused':
        if (event.data.round === 0) {
          answer.refusedAt = event.data.refusedAt;
          answer.fulfilmentRefusal = { code: event.data.code, reason: event.data.reason };
        }
        break;
      default:
        break;
    }
  }
  const outcome = roundOutcome(s.steps, decisions);
  const open = status === 'pending';
  steps.forEach((step, index) => {
    if (outcome.status === 'approved') step.status = 'approved';
    else if (index < outcome.step) step.status = 'approved';
    else if (index === outcome.step) step.status = outcome.status === 'denied' ? 'denied' : open ? 'pending' : 'closed';
    else step.status = open ? 'waiting' : 'closed';
  });
  if (state.kind === 'FulfilledRequest' || state.kind === 'EndedRequest') {
    answer.grants = state.grants.map((grant) => ({
      grantId: grant.grantId,
      entitlement: grant.entitlement,
      ...(grant.expiresAt !== undefined && { expiresAt: grant.expiresAt }),
      ...(grant.endedAt !== undefined && { endedAt: grant.endedAt }),
    }));
    if (state.grants[0]) answer.grantId = state.grants[0].grantId;
    const ends = state.grants.map((grant) => grant.expiresAt);
    if (state.kind === 'FulfilledRequest' && state.expiresAt !== undefined) answer.expiresAt = state.expiresAt;
    else if (state.kind === 'EndedRequest' && ends.every((end) => end !== undefined)) answer.expiresAt = ends.reduce((a, b) => (Date.parse(a!) >= Date.parse(b!) ? a : b));
    if (state.kind === 'EndedRequest') answer.endedAt = state.endedAt;
  } else if (state.kind === 'ApprovedRequest' && state.expiresAt !== undefined) {
    answer.expiresAt = state.expiresAt;
  }
  return { state, answer };
}

/** The status the API shows: the stage's name, and `revoked` for access given back early. */
export function answerStatus(state: RequestState): string {
  if (state.kind === 'EndedRequest' && state.revokedEarlyAt !== undefined) return 'revoked';
  return statusOf(state);
}
