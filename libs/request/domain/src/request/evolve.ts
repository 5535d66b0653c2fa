import type { ApprovalRequested, RequestEvent, RoutedStep } from '@custos/request/contracts';
import { stepDecisionOf } from './decide';
import type { ApprovalRound, FulfilledRequest, RequestGrant, RequestState } from './state';

/**
 * evolve: a submitted request is pending on its first step; ApprovalRequested moves a round to
 * its next step (due times and escalations are per step); recorded decisions accumulate (refused
 * ones change nothing); the outcome events switch the stage; grants are added by round and ended
 * one by one, and the request ends with its last grant.
 */
export function evolve(state: RequestState, event: RequestEvent): RequestState {
  switch (event.type) {
    case 'RequestSubmitted': {
      const request = event.data;
      const steps = request.steps;
      return {
        kind: 'PendingRequest',
        request,
        round: { round: 0, steps, decisions: [], justification: request.justification, step: 0, escalatedTo: [], escalationDueAt: request.submittedAt, expiryDueAt: request.submittedAt },
      };
    }
    case 'ApprovalRequested':
      return withRound(state, event.data.round, (round) => {
        const { escalatedAt: _escalatedAt, ...rest } = round;
        // The step's approvers are those it opened with (resolved then, frozen in this event).
        const steps = round.steps.map((step, index) => (index === event.data.step ? openedStep(step, event) : step));
        return { ...rest, steps, step: event.data.step, escalatedTo: [], escalationDueAt: event.data.escalationDueAt, expiryDueAt: event.data.expiryDueAt };
      });
    case 'DecisionRecorded':
      return withRound(state, event.data.round, (round) => ({ ...round, decisions: [...round.decisions, stepDecisionOf(event)] }));
    case 'DecisionRefused':
      return state;
    case 'RequestEscalated':
      return withRound(state, event.data.round, (round) => ({ ...round, escalatedTo: event.data.escalatedTo, escalatedAt: event.data.escalatedAt }));
    case 'RequestApproved':
      if (state.kind !== 'PendingRequest') return state;
      return {
        kind: 'ApprovedRequest',
        request: state.request,
        round: state.round,
        approvedAt: event.data.approvedAt,
        ...(event.data.expiresAt !== undefined && { expiresAt: event.data.expiresAt }),
        ...(event.data.sodException !== undefined && { sodException: event.data.sodException }),
      };
    case 'RequestDenied':
      return state.kind === 'PendingRequest' ? { kind: 'DeniedRequest', request: state.request, round: state.round, deniedAt: event.data.deniedAt, deniedBy: event.data.deniedBy } : state;
    case 'RequestCancelled':
      return state.kind === 'PendingRequest' ? { kind: 'CancelledRequest', request: state.request, cancelledAt: event.data.cancelledAt, cancelledBy: event.data.cancelledBy } : state;
    case 'RequestExpired':
      return state.kind === 'PendingRequest' ? { kind: 'ExpiredRequest', request: state.request, round: state.round, expiredAt: event.data.expiredAt } : state;
    case 'RequestFulfilled': {
      const added: RequestGrant[] = event.data.grants.map((grant) => ({ ...grant, round: event.data.round }));
      if (state.kind === 'ApprovedRequest') return withExpiry({ kind: 'FulfilledRequest', request: state.request, grants: added, lastRound: 0 });
      if (state.kind !== 'FulfilledRequest') return state;
      const ids = new Set(added.map((grant) => grant.grantId));
      const { extension: _extension, ...fulfilled } = state;
      // An extension may extend a grant in place (same id, later end) or add new grants.
      return withExpiry({ ...fulfilled, grants: [...state.grants.filter((grant) => !ids.has(grant.grantId)), ...added] });
    }
    case 'FulfilmentRefused': {
      if (state.kind === 'ApprovedRequest' && event.data.round === 0) {
        const { code, reason, refusedAt } = event.data;
        return { kind: 'RefusedRequest', request: state.request, round: state.round, approvedAt: state.approvedAt, refusedAt, code, reason };
      }
      if (state.kind !== 'FulfilledRequest' || state.extension?.round.round !== event.data.round) return state;
      const { extension: _extension, ...fulfilled } = state;
      // The grants ended while the extension awaited its grant: nothing is left in force.
      return endedIfNoneInForce(fulfilled, event.data.refusedAt);
    }
    case 'GrantEnded': {
      if (state.kind !== 'FulfilledRequest') return state;
      const grants = state.grants.map((grant) => (grant.grantId === event.data.grantId ? { ...grant, endedAt: event.data.endedAt } : grant));
      // An approved extension awaiting its grant keeps the request open: its fulfilment or refusal decides.
      if (state.extension?.status === 'approved') return withExpiry({ ...state, grants });
      return endedIfNoneInForce({ ...state, grants }, event.data.endedAt);
    }
    case 'AccessRevokedEarly': {
      if (state.kind !== 'FulfilledRequest') return state;
      const { extension: _extension, ...fulfilled } = state;
      return { ...fulfilled, revokedEarlyAt: event.data.revokedAt };
    }
    case 'ExtensionRequested': {
      if (state.kind !== 'FulfilledRequest') return state;
      const round: ApprovalRound = {
        round: event.data.round,
        steps: event.data.steps,
        decisions: [],
        duration: event.data.duration,
        justification: event.data.justification,
        step: 0,
        escalatedTo: [],
        escalationDueAt: event.data.requestedAt,
        expiryDueAt: event.data.requestedAt,
      };
      return { ...state, lastRound: event.data.round, extension: { status: 'pending', round } };
    }
    case 'ExtensionApproved':
      if (state.kind !== 'FulfilledRequest' || state.extension?.status !== 'pending') return state;
      return { ...state, extension: { status: 'approved', round: state.extension.round, expiresAt: event.data.expiresAt } };
    case 'ExtensionDenied':
    case 'ExtensionExpired': {
      if (state.kind !== 'FulfilledRequest') return state;
      const { extension: _extension, ...fulfilled } = state;
      return fulfilled;
    }
    default: {
      const unexpected: never = event;
      return unexpected;
    }
  }
}

/** The request ends once none of its grants is in force any more. */
function endedIfNoneInForce(state: FulfilledRequest, at: string): RequestState {
  if (!state.grants.every((grant) => grant.endedAt !== undefined)) return withExpiry(state);
  return {
    kind: 'EndedRequest',
    request: state.request,
    grants: state.grants,
    endedAt: at,
    ...(state.revokedEarlyAt !== undefined && { revokedEarlyAt: state.revokedEarlyAt }),
  };
}

/** A step as it opened: its kind, approvers and N from ApprovalRequested, its accepted SoD conflicts as routed. */
export function openedStep(step: RoutedStep, { data }: ApprovalRequested): RoutedStep {
  const { routedFrom: _routedFrom, ...rest } = step;
  return { ...rest, kind: data.kind, approverIds: data.approverIds, required: data.required, ...(data.routedFrom !== undefined && { routedFrom: data.routedFrom }) };
}

/** Applies a change to the pending round numbered `round` (the request's, or the extension's). */
function withRound(state: RequestState, round: number, change: (round: ApprovalRound) => ApprovalRound): RequestState {
  if (state.kind === 'PendingRequest' && state.round.round === round) return { ...state, round: change(state.round) };
  if (state.kind === 'FulfilledRequest' && state.extension?.status === 'pending' && state.extension.round.round === round) {
    return { ...state, extension: { status: 'pending', round: change(state.extension.round) } };
  }
  return state;
}

/** The latest end of the grants in force; none when one of them has no end. */
function withExpiry(state: FulfilledRequest): FulfilledRequest {
  const { expiresAt: _expiresAt, ...rest } = state;
  const live = state.grants.filter((grant) => grant.endedAt === undefined);
  if (live.length === 0 || live.some((grant) => grant.expiresAt === undefined)) return rest;
  const latest = live.map((grant) => grant.expiresAt!).reduce((a, b) => (Date.parse(a) >= Date.parse(b) ? a : b));
  return { ...rest, expiresAt: latest };
}
