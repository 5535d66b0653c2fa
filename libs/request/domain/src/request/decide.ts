import type {
  ApprovalRequested,
  ApprovedSodException,
  DecisionRecorded,
  DecisionRefused,
  RequestEvent,
  RoutedStep,
} from '@custos/request/contracts';
import {
  AccessNotInForce,
  AccessWithoutEnd,
  AlreadyDecided,
  DurationExceedsMaximum,
  ExtensionPending,
  NoEligibleApprovers,
  NotBeneficiary,
  NotEligibleApprover,
  NotRequester,
  RequestAlreadyExists,
  RequestNotApproved,
  RequestNotFound,
  RequestNotPending,
  ValidationFailed,
  type FieldError,
} from '../errors';
import { decisionAuthority, hasStepUp, principalOf, roundOutcome, type StepDecision } from '../policies/approval';
import { DEFAULT_APPROVAL_SLA, DEFAULT_PRIVILEGED_MAX_DURATION, addDuration, durationError, exceedsDuration } from '../policies/duration';
import { routeApproval, type ResolvedApprovers } from '../policies/routing';
import { blank, instantOf, isAtOrAfter, unique } from '../shared/time';
import type {
  CancelRequest,
  DecideRequest,
  EscalateRequest,
  ExpireRequest,
  RecordFulfilment,
  RecordFulfilmentRefused,
  RecordGrantEnded,
  RequestCommand,
  RequestExtension,
  RevokeEarly,
  SubmitRequest,
} from './commands';
import { pendingRound, statusOf, type ApprovalRound, type EndedRequest, type FulfilledRequest, type RequestFacts, type RequestState } from './state';

/**
 * decide: a request is submitted once, routed into steps; its pending round takes decisions
 * (refused attempts are recorded, see index.ts), escalates and expires by the scheduler; an
 * approved round is fulfilled by the entitlement context, whose grants end by themselves or early.
 */
export function decide(command: RequestCommand, state: RequestState): RequestEvent[] {
  switch (command.type) {
    case 'SubmitRequest':
      return submit(command, state);
    case 'DecideRequest':
      return decideStep(command, state);
    case 'CancelRequest':
      return cancel(command, state);
    case 'EscalateRequest':
      return escalate(command, state);
    case 'ExpireRequest':
      return expire(command, state);
    case 'RecordFulfilment':
      return recordFulfilment(command, state);
    case 'RecordFulfilmentRefused':
      return recordFulfilmentRefused(command, state);
    case 'RecordGrantEnded':
      return recordGrantEnded(command, state);
    case 'RevokeEarly':
      return revokeEarly(command, state);
    case 'RequestExtension':
      return requestExtension(command, state);
    default: {
      const unexpected: never = command;
      throw new Error(`unknown command ${(unexpected as { type: string }).type}`);
    }
  }
}

/**
 * submit: a justification is required; the duration is positive and within the cap (the
 * entitlement's maxDuration, PT8H for a privileged one without); SoD `prevent` refuses it;
 * the steps are routed (routeApproval) and the first opens.
 */
function submit({ data }: SubmitRequest, state: RequestState): RequestEvent[] {
  if (state.kind !== 'NoRequest') throw new RequestAlreadyExists(data.requestId);
  const errors: FieldError[] = [];
  for (const field of ['requestId', 'requesterId', 'beneficiaryId', 'justification'] as const) {
    if (blank(data[field])) errors.push({ field, message: 'is required' });
  }
  if (!data.target || !['entitlement', 'role'].includes(data.target.kind)) errors.push({ field: 'target.kind', message: 'must be entitlement or role' });
  if (blank(data.target?.key)) errors.push({ field: 'target.key', message: 'is required' });
  const forRole = data.target?.kind === 'role';
  if (forRole && (!Array.isArray(data.entitlements) || data.entitlements.length === 0 || data.entitlements.some((key) => blank(key)))) {
    errors.push({ field: 'entitlements', message: 'a role request names the entitlements the role gives (at least one)' });
  }
  instantOf(data.now, 'now');
  if (data.duration !== undefined) pushError(errors, durationError(data.now, data.duration, 'duration'));
  if (data.approvalSla !== undefined) pushError(errors, durationError(data.now, data.approvalSla, 'approvalSla'));
  if (errors.length > 0) throw new ValidationFailed(errors);

  const maxDuration = data.maxDuration ?? (data.privileged ? DEFAULT_PRIVILEGED_MAX_DURATION : undefined);
  const duration = data.duration ?? maxDuration;
  if (duration !== undefined && maxDuration !== undefined && exceedsDuration(data.now, duration, maxDuration)) {
    throw new DurationExceedsMaximum(data.target.key, duration, maxDuration);
  }
  const steps = routeApproval({ policy: data.approvalPolicy, approvers: data.approvers, sod: data.sod, requesterId: data.requesterId, beneficiaryId: data.beneficiaryId });
  const approvalSla = data.approvalSla ?? DEFAULT_APPROVAL_SLA;
  return [
    {
      type: 'RequestSubmitted',
      data: {
        requestId: data.requestId,
        requesterId: data.requesterId,
        beneficiaryId: data.beneficiaryId,
        target: { kind: data.target.kind, key: data.target.key },
        ...(forRole && { entitlements: [...new Set(data.entitlements)] }),
        justification: data.justification,
        ...(duration !== undefined && { duration }),
        privileged: data.privileged,
        ...(maxDuration !== undefined && { maxDuration }),
        approvalSla,
        approvalPolicy: data.approvalPolicy,
        sod: data.sod,
        steps,
        submittedAt: data.now,
      },
    },
    openStep(data.requestId, 0, 0, steps[0], data.now, approvalSla),
  ];
}

/**
 * decideStep: only a pending round takes decisions (409 otherwise, nothing recorded). On it,
 * an attempt by a party of the request, by someone who is no approver of the current step, or
 * without `mfa` on a privileged request is recorded as DecisionRefused and nothing else. An
 * approver decides a step once (a repeat of the same decision is a retry and records nothing);
 * each principal counts once. A deny ends the round; the last step complete approves it.
 */
function decideStep({ data }: DecideRequest, state: RequestState): RequestEvent[] {
  const errors: FieldError[] = [];
  if (blank(data.approverId)) errors.push({ field: 'approverId', message: 'is required' });
  if (data.decision !== 'approve' && data.decision !== 'deny') errors.push({ field: 'decision', message: 'must be approve or deny' });
  if (errors.length > 0) throw new ValidationFailed(errors);
  if (state.kind === 'NoRequest') throw new RequestNotFound(data.requestId);
  const round = pendingRound(state);
  if (!round) {
    // Whether a request is still pending is told to those it concerns only: anyone else learns
    // nothing of it (403 as for a stranger on a pending one, and nothing is recorded).
    if (!concerns(state, data.approverId)) throw new NotEligibleApprover(data.requestId, data.approverId);
    throw new RequestNotPending(data.requestId, statusOf(state));
  }
  const request = state.request;
  const step = round.steps[round.step];
  const at = { requestId: request.requestId, round: round.round, step: round.step, approverId: data.approverId, decision: data.decision };
  const refused = (reason: DecisionRefused['data']['reason'], onBehalfOf?: string): DecisionRefused[] => [
    { type: 'DecisionRefused', data: { ...at, ...(onBehalfOf !== undefined && { onBehalfOf }), reason, refusedAt: data.now } },
  ];

  const authority = decisionAuthority({
    approverId: data.approverId,
    parties: [request.requesterId, request.beneficiaryId],
    eligible: [...step.approverIds, ...round.escalatedTo],
    delegations: data.delegations ?? [],
    now: data.now,
  });
  if (!authority.allowed) return refused(authority.reason, authority.onBehalfOf);
  if (request.privileged && !hasStepUp(data.amr)) return refused('step-up-required');

  const ofStep = round.decisions.filter((decision) => decision.step === round.step);
  const own = ofStep.find((decision) => decision.approverId === data.approverId);
  if (own) {
    if (own.decision === data.decision) return [];
    throw new AlreadyDecided(request.requestId, data.approverId, round.step);
  }
  const decided = new Set(ofStep.map(principalOf));
  const capacity = authority.capacities.find((candidate) => !decided.has(candidate.onBehalfOf ?? data.approverId));
  if (!capacity) throw new AlreadyDecided(request.requestId, data.approverId, round.step);
  if (data.decision === 'approve' && (step.sodConflicts?.length ?? 0) > 0 && blank(data.exceptionJustification)) {
    throw new ValidationFailed([{ field: 'exceptionJustification', message: 'approving this step accepts an SoD conflict: say why the exception is acceptable' }]);
  }

  const recorded: DecisionRecorded = {
    type: 'DecisionRecorded',
    data: {
      ...at,
      ...(capacity.onBehalfOf !== undefined && { onBehalfOf: capacity.onBehalfOf }),
      ...(data.comment !== undefined && { comment: data.comment }),
      ...(data.decision === 'approve' && data.exceptionJustification !== undefined && { exceptionJustification: data.exceptionJustification }),
      amr: [...(data.amr ?? [])],
      decidedAt: data.now,
    },
  };
  const decisions: StepDecision[] = [...round.decisions, stepDecisionOf(recorded)];
  const outcome = roundOutcome(round.steps, decisions);
  switch (outcome.status) {
    case 'pending':
      return outcome.step === round.step
        ? [recorded]
        : [recorded, openStep(request.requestId, round.round, outcome.step, stepOpening(request, round, outcome.step, data.approvers), data.now, request.approvalSla)];
    case 'denied': {
      const denied = { requestId: request.requestId, round: round.round, step: outcome.step, deniedBy: outcome.deniedBy, ...(data.comment !== undefined && { comment: data.comment }), deniedAt: data.now };
      return [recorded, round.round === 0 ? { type: 'RequestDenied', data: denied } : { type: 'ExtensionDenied', data: denied }];
    }
    case 'approved':
      return [recorded, approval(request, round, decisions, data.now)];
  }
}

/**
 * stepOpening: a step's approvers are resolved when it opens, so that a manager or owner who
 * changed or left since the request was routed is not the one asked: the request's policy is
 * routed again with the approvers of now (an empty step goes to security, as at submission).
 * Without approvers resolved now, or when the policy can no longer be routed (no security
 * approver left), the step opens as routed at submission.
 */
function stepOpening(request: RequestFacts, round: ApprovalRound, index: number, approvers: ResolvedApprovers | undefined): RoutedStep {
  const planned = round.steps[index];
  if (!approvers) return planned;
  try {
    const routed = routeApproval({ policy: request.approvalPolicy, approvers, sod: request.sod, requesterId: request.requesterId, beneficiaryId: request.beneficiaryId });
    return routed.length === round.steps.length ? routed[index] : planned;
  } catch (error) {
    if (error instanceof NoEligibleApprovers) return planned;
    throw error;
  }
}

/** The event that approves a round: what the grant needs, so the request service reads nothing else. */
function approval(request: RequestFacts, round: ApprovalRound, decisions: StepDecision[], now: string): RequestEvent {
  const sodException = approvedSodException(round.steps, decisions);
  const grant = {
    requestId: request.requestId,
    beneficiaryId: request.beneficiaryId,
    target: request.target,
    privileged: request.privileged,
    ...(request.maxDuration !== undefined && { maxDuration: request.maxDuration }),
    ...(sodException !== undefined && { sodException }),
    approvedAt: now,
  };
  if (round.round === 0) {
    return {
      type: 'RequestApproved',
      data: { ...grant, justification: request.justification, ...(request.duration !== undefined && { expiresAt: addDuration(now, request.duration) }) },
    };
  }
  const duration = round.duration!;
  return { type: 'ExtensionApproved', data: { ...grant, round: round.round, justification: round.justification, expiresAt: addDuration(now, duration) } };
}

/** The SoD exception a round approved: the conflicts of its step that accepts them, justified by the approval that completed it. */
function approvedSodException(steps: readonly RoutedStep[], decisions: readonly StepDecision[]): ApprovedSodException | undefined {
  const index = steps.findIndex((step) => (step.sodConflicts?.length ?? 0) > 0);
  if (index < 0) return undefined;
  const approvals = decisions.filter((decision) => decision.step === index && decision.decision === 'approve');
  const last = approvals[approvals.length - 1];
  return { conflicts: steps[index].sodConflicts!, reason: last.exceptionJustification ?? '', approvedBy: last.approverId };
}

/** cancel: the requester alone withdraws a pending request; a repeat by the requester records nothing. */
function cancel({ data }: CancelRequest, state: RequestState): RequestEvent[] {
  if (state.kind === 'NoRequest') throw new RequestNotFound(data.requestId);
  // Who asks comes first: anyone else learns nothing of the request's state, not even from a repeat.
  if (data.cancelledBy !== state.request.requesterId) throw new NotRequester(data.requestId, data.cancelledBy);
  if (state.kind === 'CancelledRequest') return [];
  if (state.kind !== 'PendingRequest') throw new RequestNotPending(data.requestId, statusOf(state));
  return [{ type: 'RequestCancelled', data: { requestId: data.requestId, cancelledBy: data.cancelledBy, ...(data.reason !== undefined && { reason: data.reason }), cancelledAt: data.now } }];
}

/**
 * escalate: a step still open at its escalation time is opened to the managers of its approvers
 * (the parties left out), once. A job for a step that has moved on, or that comes early, does nothing.
 */
function escalate({ data }: EscalateRequest, state: RequestState): RequestEvent[] {
  if (state.kind === 'NoRequest') throw new RequestNotFound(data.requestId);
  const round = pendingRound(state);
  if (!round || round.round !== data.round || round.step !== data.step || round.escalatedAt !== undefined) return [];
  if (!isAtOrAfter(data.now, round.escalationDueAt)) return [];
  const parties = [state.request.requesterId, state.request.beneficiaryId];
  const escalatedTo = unique(data.escalateTo ?? []).filter((id) => !blank(id) && !parties.includes(id));
  return [
    {
      type: 'RequestEscalated',
      data: { requestId: data.requestId, round: round.round, step: round.step, escalatedTo, escalatedAt: data.now, expiryDueAt: round.expiryDueAt },
    },
  ];
}

/** expire: a round still pending at its expiry time closes (the request expires; an extension lapses and the access keeps its end). */
function expire({ data }: ExpireRequest, state: RequestState): RequestEvent[] {
  if (state.kind === 'NoRequest') throw new RequestNotFound(data.requestId);
  const round = pendingRound(state);
  if (!round || round.round !== data.round || !isAtOrAfter(data.now, round.expiryDueAt)) return [];
  const expired = { requestId: data.requestId, round: round.round, step: round.step, expiredAt: data.now };
  return [round.round === 0 ? { type: 'RequestExpired', data: expired } : { type: 'ExtensionExpired', data: expired }];
}

/** recordFulfilment: an approved round is fulfilled once, with the grants that gave it. */
function recordFulfilment({ data }: RecordFulfilment, state: RequestState): RequestEvent[] {
  if (state.kind === 'NoRequest') throw new RequestNotFound(data.requestId);
  const grants = Array.isArray(data.grants) ? data.grants : [];
  const errors: FieldError[] = grants.length === 0 ? [{ field: 'grants', message: 'names at least one grant' }] : [];
  grants.forEach((grant, index) => {
    if (blank(grant.grantId)) errors.push({ field: `grants[${index}].grantId`, message: 'is required' });
    if (blank(grant.entitlement)) errors.push({ field: `grants[${index}].entitlement`, message: 'is required' });
  });
  if (errors.length > 0) throw new ValidationFailed(errors);

  const awaiting =
    (state.kind === 'ApprovedRequest' && data.round === 0) ||
    (state.kind === 'FulfilledRequest' && state.extension?.status === 'approved' && state.extension.round.round === data.round);
  if (!awaiting) {
    const fulfilledAlready = (state.kind === 'FulfilledRequest' || state.kind === 'EndedRequest') && state.grants.some((grant) => grant.round === data.round);
    if (fulfilledAlready) return [];
    throw new RequestNotApproved(data.requestId, data.round, statusOf(state));
  }
  return [
    {
      type: 'RequestFulfilled',
      data: {
        requestId: data.requestId,
        round: data.round,
        grants: grants.map((grant) => ({ grantId: grant.grantId, entitlement: grant.entitlement, ...(grant.expiresAt !== undefined && { expiresAt: grant.expiresAt }) })),
        fulfilledAt: data.now,
      },
    },
  ];
}

/**
 * recordFulfilmentRefused: an approved round whose grant the entitlement context refused is
 * closed once (round 0: the request is refused; an extension round: the access keeps its end).
 * A repeat, or a refusal for a round granted or closed since, records nothing.
 */
function recordFulfilmentRefused({ data }: RecordFulfilmentRefused, state: RequestState): RequestEvent[] {
  if (state.kind === 'NoRequest') throw new RequestNotFound(data.requestId);
  const errors: FieldError[] = [];
  if (blank(data.code)) errors.push({ field: 'code', message: 'is required' });
  if (blank(data.reason)) errors.push({ field: 'reason', message: 'is required' });
  if (errors.length > 0) throw new ValidationFailed(errors);
  const awaiting =
    (state.kind === 'ApprovedRequest' && data.round === 0) ||
    (state.kind === 'FulfilledRequest' && state.extension?.status === 'approved' && state.extension.round.round === data.round);
  if (!awaiting) {
    const closedAlready =
      (state.kind === 'RefusedRequest' && data.round === 0) || ((state.kind === 'FulfilledRequest' || state.kind === 'EndedRequest') && data.round <= lastRoundOf(state));
    if (closedAlready) return [];
    throw new RequestNotApproved(data.requestId, data.round, statusOf(state));
  }
  return [{ type: 'FulfilmentRefused', data: { requestId: data.requestId, round: data.round, code: data.code, reason: data.reason, refusedAt: data.now } }];
}

function lastRoundOf(state: FulfilledRequest | EndedRequest): number {
  return state.kind === 'FulfilledRequest' ? state.lastRound : Math.max(0, ...state.grants.map((grant) => grant.round));
}

/** recordGrantEnded: the request records the end of each of its grants once; others are not its own. */
function recordGrantEnded({ data }: RecordGrantEnded, state: RequestState): RequestEvent[] {
  if (state.kind === 'NoRequest') throw new RequestNotFound(data.requestId);
  if (state.kind !== 'FulfilledRequest') return [];
  const grant = state.grants.find((candidate) => candidate.grantId === data.grantId && candidate.endedAt === undefined);
  if (!grant) return [];
  return [{ type: 'GrantEnded', data: { requestId: data.requestId, grantId: grant.grantId, entitlement: grant.entitlement, reason: data.reason, endedAt: data.now } }];
}

/** revokeEarly: the beneficiary gives back access in force; a repeat by the beneficiary records nothing. */
function revokeEarly({ data }: RevokeEarly, state: RequestState): RequestEvent[] {
  if (state.kind === 'NoRequest') throw new RequestNotFound(data.requestId);
  // Who asks comes first: anyone else learns nothing of the request's state, not even from a repeat.
  if (data.revokedBy !== state.request.beneficiaryId) throw new NotBeneficiary(data.requestId, data.revokedBy);
  if ((state.kind === 'FulfilledRequest' || state.kind === 'EndedRequest') && state.revokedEarlyAt !== undefined) return [];
  const fulfilled = inForce(state, data.requestId);
  return [
    {
      type: 'AccessRevokedEarly',
      data: {
        requestId: data.requestId,
        beneficiaryId: fulfilled.request.beneficiaryId,
        grantIds: fulfilled.grants.filter((grant) => grant.endedAt === undefined).map((grant) => grant.grantId),
        revokedBy: data.revokedBy,
        ...(data.reason !== undefined && { reason: data.reason }),
        revokedAt: data.now,
      },
    },
  ];
}

/**
 * requestExtension: the beneficiary asks for more time on access in force with an end, one round at a time:
 * the same steps (the request's policy and SoD evaluation) routed again with approvers resolved
 * now, the duration within the request's cap.
 */
function requestExtension({ data }: RequestExtension, state: RequestState): RequestEvent[] {
  if (state.kind === 'NoRequest') throw new RequestNotFound(data.requestId);
  // Who asks comes first: anyone else learns nothing of the request's state.
  if (data.requestedBy !== state.request.beneficiaryId) throw new NotBeneficiary(data.requestId, data.requestedBy);
  const fulfilled = inForce(state, data.requestId);
  const { request } = fulfilled;
  if (fulfilled.extension) throw new ExtensionPending(data.requestId, fulfilled.extension.round.round);
  if (fulfilled.expiresAt === undefined) throw new AccessWithoutEnd(data.requestId);
  const errors: FieldError[] = [];
  if (blank(data.justification)) errors.push({ field: 'justification', message: 'is required' });
  pushError(errors, durationError(data.now, data.duration, 'duration'));
  if (errors.length > 0) throw new ValidationFailed(errors);
  if (request.maxDuration !== undefined && exceedsDuration(data.now, data.duration, request.maxDuration)) {
    throw new DurationExceedsMaximum(request.target.key, data.duration, request.maxDuration);
  }
  const steps = routeApproval({ policy: request.approvalPolicy, approvers: data.approvers, sod: request.sod, requesterId: request.requesterId, beneficiaryId: request.beneficiaryId });
  const round = fulfilled.lastRound + 1;
  return [
    {
      type: 'ExtensionRequested',
      data: { requestId: data.requestId, round, requestedBy: data.requestedBy, duration: data.duration, justification: data.justification, steps, requestedAt: data.now },
    },
    openStep(data.requestId, round, 0, steps[0], data.now, request.approvalSla),
  ];
}

/** The fulfilled request whose access is in force (not given back, a grant not ended), or AccessNotInForce. */
function inForce(state: Exclude<RequestState, { kind: 'NoRequest' }>, requestId: string): FulfilledRequest {
  if (state.kind !== 'FulfilledRequest' || state.revokedEarlyAt !== undefined || state.grants.every((grant) => grant.endedAt !== undefined)) {
    throw new AccessNotInForce(requestId, statusOf(state));
  }
  return state;
}

/** A step opens: it may wait one SLA before it escalates, two before its round expires. */
function openStep(requestId: string, round: number, index: number, step: RoutedStep, now: string, approvalSla: string): ApprovalRequested {
  const escalationDueAt = addDuration(now, approvalSla, 'approvalSla');
  return {
    type: 'ApprovalRequested',
    data: {
      requestId,
      round,
      step: index,
      kind: step.kind,
      ...(step.routedFrom !== undefined && { routedFrom: step.routedFrom }),
      approverIds: step.approverIds,
      required: step.required,
      sodExceptionRequired: (step.sodConflicts?.length ?? 0) > 0,
      requestedAt: now,
      escalationDueAt,
      expiryDueAt: addDuration(escalationDueAt, approvalSla, 'approvalSla'),
    },
  };
}

/** The decision as a round's fold keeps it. */
export function stepDecisionOf({ data }: DecisionRecorded): StepDecision {
  return {
    step: data.step,
    approverId: data.approverId,
    ...(data.onBehalfOf !== undefined && { onBehalfOf: data.onBehalfOf }),
    decision: data.decision,
    ...(data.exceptionJustification !== undefined && { exceptionJustification: data.exceptionJustification }),
  };
}

function pushError(errors: FieldError[], error: FieldError | undefined): void {
  if (error) errors.push(error);
}

/**
 * concerns: whether `who` has a part in the request: its requester, its beneficiary, or an
 * approver (or escalation target) of one of its rounds. Only they learn its state from a refusal.
 */
function concerns(state: Exclude<RequestState, { kind: 'NoRequest' }>, who: string): boolean {
  const { request } = state;
  if (who === request.requesterId || who === request.beneficiaryId) return true;
  const rounds: Array<Pick<ApprovalRound, 'steps' | 'escalatedTo'>> = [{ steps: request.steps, escalatedTo: [] }];
  if ('round' in state && typeof state.round === 'object') rounds.push(state.round);
  if ('extension' in state && state.extension) rounds.push(state.extension.round);
  return rounds.some((r) => r.escalatedTo.includes(who) || r.steps.some((step) => step.approverIds.includes(who)));
}
