import type { ApprovedSodException, RequestSubmitted, RoutedStep } from '@custos/request/contracts';
import type { StepDecision } from '../policies/approval';

/** What a request is about, as submitted (its first round's routed steps included); it never changes. */
export type RequestFacts = RequestSubmitted['data'];

/**
 * One approval round: round 0 is the request, round n the n-th extension. Its outcome is
 * recomputed from `steps` and `decisions` (roundOutcome); `step` is the open step, with its
 * escalation targets and due times.
 */
export interface ApprovalRound {
  round: number;
  steps: RoutedStep[];
  decisions: StepDecision[];
  /** For an extension round: its duration and justification. */
  duration?: string;
  justification: string;
  step: number;
  escalatedTo: string[];
  escalatedAt?: string;
  escalationDueAt: string;
  expiryDueAt: string;
}

/** A grant the request gave; `endedAt` once it expired or was revoked. */
export interface RequestGrant {
  grantId: string;
  entitlement: string;
  round: number;
  expiresAt?: string;
  endedAt?: string;
}

export interface NoRequest {
  kind: 'NoRequest';
}

export interface PendingRequest {
  kind: 'PendingRequest';
  request: RequestFacts;
  round: ApprovalRound;
}

export interface ApprovedRequest {
  kind: 'ApprovedRequest';
  request: RequestFacts;
  round: ApprovalRound;
  approvedAt: string;
  expiresAt?: string;
  sodException?: ApprovedSodException;
}

export interface DeniedRequest {
  kind: 'DeniedRequest';
  request: RequestFacts;
  round: ApprovalRound;
  deniedAt: string;
  deniedBy: string;
}

export interface CancelledRequest {
  kind: 'CancelledRequest';
  request: RequestFacts;
  cancelledAt: string;
  cancelledBy: string;
}

/** Round 0 was approved, but the entitlement context refused to grant it (FulfilmentRefused): final. */
export interface RefusedRequest {
  kind: 'RefusedRequest';
  request: RequestFacts;
  round: ApprovalRound;
  approvedAt: string;
  refusedAt: string;
  /** The entitlement context's error code and message. */
  code: string;
  reason: string;
}

/** Round 0 waited past its second SLA. */
export interface ExpiredRequest {
  kind: 'ExpiredRequest';
  request: RequestFacts;
  round: ApprovalRound;
  expiredAt: string;
}

/**
 * Granted. The access is in force while a grant has not ended; an extension round may be
 * pending, or approved and awaiting its grant. `revokedEarlyAt`: the beneficiary gave it back
 * (its grants end when the entitlement context revokes them).
 */
export interface FulfilledRequest {
  kind: 'FulfilledRequest';
  request: RequestFacts;
  grants: RequestGrant[];
  /** The latest end of the grants in force (absent: one has no end). */
  expiresAt?: string;
  /** The last round started (0 until an extension is asked). */
  lastRound: number;
  extension?: { status: 'pending'; round: ApprovalRound } | { status: 'approved'; round: ApprovalRound; expiresAt: string };
  revokedEarlyAt?: string;
}

/** Every grant of the request has ended: expired just in time, revoked early, or revoked. */
export interface EndedRequest {
  kind: 'EndedRequest';
  request: RequestFacts;
  grants: RequestGrant[];
  endedAt: string;
  revokedEarlyAt?: string;
}

export type RequestState =
  | NoRequest
  | PendingRequest
  | ApprovedRequest
  | DeniedRequest
  | CancelledRequest
  | ExpiredRequest
  | RefusedRequest
  | FulfilledRequest
  | EndedRequest;

/** initialState: a request nobody has raised yet. */
export function initialState(): RequestState {
  return { kind: 'NoRequest' };
}

/** The round a decision, an escalation or an expiry addresses now, if one is pending. */
export function pendingRound(state: RequestState): ApprovalRound | undefined {
  if (state.kind === 'PendingRequest') return state.round;
  if (state.kind === 'FulfilledRequest' && state.extension?.status === 'pending') return state.extension.round;
  return undefined;
}

/** The status a request is in, as its API shows it (`pending`, `approved`...). */
export function statusOf(state: RequestState): string {
  return state.kind === 'NoRequest' ? 'unknown' : state.kind.replace(/Request$/, '').toLowerCase();
}
