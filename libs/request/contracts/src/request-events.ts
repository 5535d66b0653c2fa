import type { DomainEvent } from '@custos/platform/domain';
import type { ApprovalPolicy, ApprovedSodException, ApproverKind, Decision, RefusalReason, RequestTarget, RoutedStep, SodEvaluation } from './approval';

/*
 * The events of one access request (stream `request-{requestId}`). A request runs approval
 * rounds: round 0 is the request itself, round n >= 1 the n-th extension. Every round walks the
 * same routed steps in order; each step opens with ApprovalRequested.
 */

export type RequestSubmitted = DomainEvent<
  'RequestSubmitted',
  {
    requestId: string;
    requesterId: string;
    beneficiaryId: string;
    target: RequestTarget;
    /** A request for a role: the entitlements the role gave when it was asked for, which its approvers approve and its grant gives. */
    entitlements?: string[];
    justification: string;
    /** ISO 8601; absent: access without an end (only when nothing caps it). */
    duration?: string;
    privileged: boolean;
    /** The cap enforced on `duration` and on extensions (the entitlement's, or PT8H for privileged). */
    maxDuration?: string;
    /** How long a step may wait before it escalates; as long again and the round expires. */
    approvalSla: string;
    /** The routing input, kept so that an extension is routed through the same steps. */
    approvalPolicy: ApprovalPolicy;
    sod: SodEvaluation;
    /** Every step, its approvers resolved at submission and frozen. */
    steps: RoutedStep[];
    submittedAt: string;
  }
>;

/** A step opened: these approvers may decide it (for a notifier: whom to ask), until the due times. */
export type ApprovalRequested = DomainEvent<
  'ApprovalRequested',
  {
    requestId: string;
    round: number;
    step: number;
    kind: ApproverKind;
    routedFrom?: ApproverKind;
    approverIds: string[];
    required: number;
    /** The step accepts SoD conflicts: each approval carries an exception justification. */
    sodExceptionRequired: boolean;
    requestedAt: string;
    /** When the step escalates to the approvers' managers if still open. */
    escalationDueAt: string;
    /** When the round expires if the step is still open. */
    expiryDueAt: string;
  }
>;

/** An eligible approver decided the current step (as themselves, or for `onBehalfOf` through a delegation). */
export type DecisionRecorded = DomainEvent<
  'DecisionRecorded',
  {
    requestId: string;
    round: number;
    step: number;
    approverId: string;
    /** The delegating approver whose place `approverId` took. */
    onBehalfOf?: string;
    decision: Decision;
    comment?: string;
    /** For a step accepting SoD conflicts: why the exception is acceptable. */
    exceptionJustification?: string;
    /** The authentication methods of the approver's login. */
    amr: string[];
    decidedAt: string;
  }
>;

/**
 * A decision attempt was refused: recorded so that the audit trail shows it. The edge answers
 * the error of `reason` (403); nothing else changes.
 */
export type DecisionRefused = DomainEvent<
  'DecisionRefused',
  {
    requestId: string;
    round: number;
    step: number;
    approverId: string;
    /** The delegator the attempt was made for, when it came through a delegation. */
    onBehalfOf?: string;
    decision: Decision;
    reason: RefusalReason;
    refusedAt: string;
  }
>;

/** Every step of round 0 approved: the request service grants it (`expiresAt`, `sodException` as given here). */
export type RequestApproved = DomainEvent<
  'RequestApproved',
  {
    requestId: string;
    beneficiaryId: string;
    target: RequestTarget;
    justification: string;
    privileged: boolean;
    maxDuration?: string;
    /** The grant's end: approval time plus the duration; absent for access without an end. */
    expiresAt?: string;
    sodException?: ApprovedSodException;
    approvedAt: string;
  }
>;

export type RequestDenied = DomainEvent<
  'RequestDenied',
  { requestId: string; round: number; step: number; deniedBy: string; comment?: string; deniedAt: string }
>;

export type RequestCancelled = DomainEvent<'RequestCancelled', { requestId: string; cancelledBy: string; reason?: string; cancelledAt: string }>;

/** A step past its SLA: the approvers' managers (`escalatedTo`) may decide it too, from now on. */
export type RequestEscalated = DomainEvent<
  'RequestEscalated',
  { requestId: string; round: number; step: number; escalatedTo: string[]; escalatedAt: string; expiryDueAt: string }
>;

/** Round 0 waited past its second SLA: the request is closed without a decision. */
export type RequestExpired = DomainEvent<'RequestExpired', { requestId: string; round: number; step: number; expiredAt: string }>;

export interface FulfilledGrant {
  grantId: string;
  entitlement: string;
  expiresAt?: string;
}

/** The entitlement context granted what the round approved (a role request: one grant per entitlement; an extension: new or extended grants). */
export type RequestFulfilled = DomainEvent<'RequestFulfilled', { requestId: string; round: number; grants: FulfilledGrant[]; fulfilledAt: string }>;

/**
 * The entitlement context refused to grant what a round approved (a rule it enforces, e.g. a
 * `prevent` SoD policy added after the approval, a retired entitlement, a terminated identity):
 * round 0 ends refused, an extension round ends with the access keeping its end. `code` is the
 * entitlement context's error code, `reason` its message.
 */
export type FulfilmentRefused = DomainEvent<'FulfilmentRefused', { requestId: string; round: number; code: string; reason: string; refusedAt: string }>;

/** A grant of the request ended in the entitlement context: it expired (just in time) or was revoked. */
export type GrantEnded = DomainEvent<
  'GrantEnded',
  { requestId: string; grantId: string; entitlement: string; reason: 'expired' | 'revoked'; endedAt: string }
>;

/** The beneficiary gave the access back before its end: the request service revokes `grantIds`. */
export type AccessRevokedEarly = DomainEvent<
  'AccessRevokedEarly',
  { requestId: string; beneficiaryId: string; grantIds: string[]; revokedBy: string; reason?: string; revokedAt: string }
>;

/** The beneficiary asked for more time: a new round through the same steps, approvers resolved again. */
export type ExtensionRequested = DomainEvent<
  'ExtensionRequested',
  { requestId: string; round: number; requestedBy: string; duration: string; justification: string; steps: RoutedStep[]; requestedAt: string }
>;

/** Every step of an extension round approved: the request service grants again until `expiresAt`. */
export type ExtensionApproved = DomainEvent<
  'ExtensionApproved',
  {
    requestId: string;
    round: number;
    beneficiaryId: string;
    target: RequestTarget;
    justification: string;
    privileged: boolean;
    maxDuration?: string;
    expiresAt: string;
    sodException?: ApprovedSodException;
    approvedAt: string;
  }
>;

/** An extension round was denied: the access keeps its end. */
export type ExtensionDenied = DomainEvent<
  'ExtensionDenied',
  { requestId: string; round: number; step: number; deniedBy: string; comment?: string; deniedAt: string }
>;

/** An extension round waited past its second SLA: the access keeps its end. */
export type ExtensionExpired = DomainEvent<'ExtensionExpired', { requestId: string; round: number; step: number; expiredAt: string }>;

export type RequestEvent =
  | RequestSubmitted
  | ApprovalRequested
  | DecisionRecorded
  | DecisionRefused
  | RequestApproved
  | RequestDenied
  | RequestCancelled
  | RequestEscalated
  | RequestExpired
  | RequestFulfilled
  | FulfilmentRefused
  | GrantEnded
  | AccessRevokedEarly
  | ExtensionRequested
  | ExtensionApproved
  | ExtensionDenied
  | ExtensionExpired;
