import type { ApproverKind, RequestEvent, RequestTarget, RoutedStep, SodConflict } from '@custos/request/contracts';
import { openedStep, pendingRound, requestDecider, roundOutcome, statusOf, type RequestState, type StepDecision } from '@custos/request/domain';

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

/** An extension round as GET /requests/{id} shows it: asked by the beneficiary, walked through the request's steps again. */
export interface ExtensionAnswer {
  round: number;
  /** pending, approved (awaiting its grant), fulfilled (the access runs to `expiresAt`), denied, expired (no decision in time), refused (the grant was refused) or closed (the access ended or was given back before a decision). */
  status: 'pending' | 'approved' | 'fulfilled' | 'denied' | 'expired' | 'refused' | 'closed';
  requestedBy: string;
  duration: string;
  justification: string;
  requestedAt: string;
  /** Its steps, their approvers resolved again when it was asked. */
  steps: StepAnswer[];
  /** The end it approved. */
  expiresAt?: string;
  approvedAt?: string;
  deniedAt?: string;
  expiredAt?: string;
  fulfilledAt?: string;
  refusedAt?: string;
  fulfilmentRefusal?: { code: string; reason: string };
}

/** An access request as GET /requests/{id} answers it: its steps, every decision, and its grant once fulfilled. */
export interface RequestAnswer {
  requestId: string;
  /** pending, approved, denied, cancelled, expired (no decision in time), refused (approved, but the grant was refused), fulfilled, revoked (given back early) or ended (its grant ended). */
  status: string;
  requesterId: string;
  beneficiaryId: string;
  target: RequestTarget;
  /** A request for a role: the entitlements the role gave when asked for, which its grant gives. */
  entitlements?: string[];
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
  /** The extensions asked for, oldest first (absent: none). */
  extensions?: ExtensionAnswer[];
}

/** The steps of one round as they are answered, and the decisions their outcome folds. */
interface RoundSteps {
  routed: RoutedStep[];
  steps: StepAnswer[];
  decisions: StepDecision[];
}

function roundSteps(routed: RoutedStep[]): RoundSteps {
  const steps: StepAnswer[] = routed.map((step) => ({
    kind: step.kind,
    ...(step.routedFrom !== undefined && { routedFrom: step.routedFrom }),
    approverIds: step.approverIds,
    required: step.required,
    status: 'waiting' as StepStatus,
    ...(step.sodConflicts !== undefined && { sodConflicts: step.sodConflicts }),
    decisions: [],
  }));
  return { routed, steps, decisions: [] };
}

/** Each step's status from the round's outcome; `open`: the round still takes decisions. */
function settleSteps(round: RoundSteps, open: boolean): void {
  const outcome = roundOutcome(round.routed, round.decisions);
  round.steps.forEach((step, index) => {
    if (outcome.status === 'approved') step.status = 'approved';
    else if (index < outcome.step) step.status = 'approved';
    else if (index === outcome.step) step.status = outcome.status === 'denied' ? 'denied' : open ? 'pending' : 'closed';
    else step.status = open ? 'waiting' : 'closed';
  });
}

/** The request's state (its decider's fold) and its answer, from its events. */
export function describeRequest(events: readonly RequestEvent[]): { state: RequestState; answer?: RequestAnswer } {
  const state = events.reduce(requestDecider.evolve, requestDecider.initialState());
  const submitted = events.find((event) => event.type === 'RequestSubmitted');
  if (!submitted || submitted.type !== 'RequestSubmitted') return { state };
  const s = submitted.data;
  const status = answerStatus(state);
  const rounds = new Map<number, RoundSteps>([[0, roundSteps(s.steps)]]);
  const extensions = new Map<number, ExtensionAnswer>();
  const answer: RequestAnswer = {
    requestId: s.requestId,
    status,
    requesterId: s.requesterId,
    beneficiaryId: s.beneficiaryId,
    target: s.target,
    ...(s.entitlements !== undefined && { entitlements: s.entitlements }),
    justification: s.justification,
    ...(s.duration !== undefined && { duration: s.duration }),
    privileged: s.privileged,
    ...(s.maxDuration !== undefined && { maxDuration: s.maxDuration }),
    approvalSla: s.approvalSla,
    submittedAt: s.submittedAt,
    steps: rounds.get(0)!.steps,
  };
  for (const event of events) {
    switch (event.type) {
      case 'ExtensionRequested': {
        const round = roundSteps(event.data.steps);
        rounds.set(event.data.round, round);
        const { round: number, requestedBy, duration, justification, requestedAt } = event.data;
        extensions.set(number, { round: number, status: 'pending', requestedBy, duration, justification, requestedAt, steps: round.steps });
        break;
      }
      case 'ApprovalRequested': {
        const round = rounds.get(event.data.round);
        const step = round?.steps[event.data.step];
        if (!round || !step) break;
        // Who may decide a step is who it opened with (resolved then), not who was routed at submission.
        const opened = openedStep(round.routed[event.data.step], event);
        round.routed = round.routed.map((routed, index) => (index === event.data.step ? opened : routed));
        Object.assign(step, {
          kind: opened.kind,
          approverIds: opened.approverIds,
          required: opened.required,
          requestedAt: event.data.requestedAt,
          escalationDueAt: event.data.escalationDueAt,
          expiryDueAt: event.data.expiryDueAt,
        });
        if (opened.routedFrom !== undefined) step.routedFrom = opened.routedFrom;
        else delete step.routedFrom;
        break;
      }
      case 'RequestEscalated': {
        const step = rounds.get(event.data.round)?.steps[event.data.step];
        if (step) step.escalatedTo = event.data.escalatedTo;
        break;
      }
      case 'DecisionRecorded': {
        const d = event.data;
        const round = rounds.get(d.round);
        if (!round?.steps[d.step]) break;
        round.decisions.push({ step: d.step, approverId: d.approverId, ...(d.onBehalfOf !== undefined && { onBehalfOf: d.onBehalfOf }), decision: d.decision });
        round.steps[d.step].decisions.push({
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
      case 'RequestFulfilled': {
        const extension = extensions.get(event.data.round);
        if (extension) Object.assign(extension, { status: 'fulfilled', fulfilledAt: event.data.fulfilledAt });
        else answer.fulfilledAt ??= event.data.fulfilledAt;
        break;
      }
      case 'FulfilmentRefused': {
        const refusal = { refusedAt: event.data.refusedAt, fulfilmentRefusal: { code: event.data.code, reason: event.data.reason } };
        const extension = extensions.get(event.data.round);
        if (extension) Object.assign(extension, { status: 'refused', ...refusal });
        else if (event.data.round === 0) Object.assign(answer, refusal);
        break;
      }
      case 'ExtensionApproved':
        Object.assign(extensions.get(event.data.round) ?? {}, { status: 'approved', approvedAt: event.data.approvedAt, expiresAt: event.data.expiresAt });
        break;
      case 'ExtensionDenied':
        Object.assign(extensions.get(event.data.round) ?? {}, { status: 'denied', deniedAt: event.data.deniedAt });
        break;
      case 'ExtensionExpired':
        Object.assign(extensions.get(event.data.round) ?? {}, { status: 'expired', expiredAt: event.data.expiredAt });
        break;
      default:
        break;
    }
  }
  const pending = pendingRound(state);
  for (const [number, round] of rounds) settleSteps(round, pending?.round === number);
  for (const extension of extensions.values()) {
    // The access ended or was given back while it waited: nobody decides it any more.
    if (extension.status === 'pending' && pending?.round !== extension.round) extension.status = 'closed';
  }
  if (extensions.size > 0) answer.extensions = [...extensions.values()];
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

/**
 * The round whose open step waits for decisions now, as answered: round 0 while the request is
 * pending, else a pending extension's; undefined when none does.
 */
export function openRound(answer: RequestAnswer): { round: number; step: number; steps: StepAnswer[]; extension?: ExtensionAnswer } | undefined {
  const extension = answer.extensions?.find((candidate) => candidate.status === 'pending');
  const steps = answer.status === 'pending' ? answer.steps : extension?.steps;
  if (!steps) return undefined;
  const step = steps.findIndex((candidate) => candidate.status === 'pending');
  if (step < 0) return undefined;
  return answer.status === 'pending' ? { round: 0, step, steps } : { round: extension!.round, step, steps, extension };
}

/** The status the API shows: the stage's name, and `revoked` for access given back early. */
export function answerStatus(state: RequestState): string {
  if (state.kind === 'EndedRequest' && state.revokedEarlyAt !== undefined) return 'revoked';
  return statusOf(state);
}
