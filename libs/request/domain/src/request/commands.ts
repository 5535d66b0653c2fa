import type { ApprovalPolicy, Decision, Delegation, RequestTarget, SodEvaluation } from '@custos/request/contracts';
import type { ResolvedApprovers } from '../policies/routing';

/**
 * Raise a request. Everything the rules need comes as data, resolved by the application: the
 * entitlement's facts from the catalog (for a role: privileged if any of its entitlements is,
 * the shortest maxDuration, the strictest policy), the approvers of each step kind, and what
 * `rpc.entitlement.evaluate-sod` answered.
 */
export interface SubmitRequest {
  type: 'SubmitRequest';
  data: {
    requestId: string;
    requesterId: string;
    beneficiaryId: string;
    target: RequestTarget;
    /** A request for a role: the entitlements it gives now (from the entitlement context), at least one. */
    entitlements?: string[];
    justification: string;
    /** ISO 8601, positive, down to seconds; absent: the cap when there is one, else access without an end. */
    duration?: string;
    privileged: boolean;
    /** The entitlement's maxDuration; a privileged one without it is capped at PT8H. */
    maxDuration?: string;
    /** The entitlement's approval SLA (default PT48H). */
    approvalSla?: string;
    approvalPolicy: ApprovalPolicy;
    approvers: ResolvedApprovers;
    sod: SodEvaluation;
    now: string;
  };
}

/** Approve or deny the current step of the pending round (the request's, or an extension's). */
export interface DecideRequest {
  type: 'DecideRequest';
  data: {
    requestId: string;
    approverId: string;
    decision: Decision;
    comment?: string;
    /** Required to approve a step that accepts SoD conflicts. */
    exceptionJustification?: string;
    /** The approver's token's `amr`: a privileged request needs `mfa`. */
    amr: readonly string[];
    /** The delegations in force naming the approver as delegate (from the delegation read model); others are ignored. */
    delegations: readonly Delegation[];
    /**
     * The approvers of each kind resolved now, for the step this decision may open: a step's
     * approvers are those of when it opens (absent: the step as routed at submission).
     */
    approvers?: ResolvedApprovers;
    now: string;
  };
}

export interface CancelRequest {
  type: 'CancelRequest';
  data: { requestId: string; cancelledBy: string; reason?: string; now: string };
}

/** Sent by the scheduler at the step's `escalationDueAt`; early, late or repeated ones change nothing. */
export interface EscalateRequest {
  type: 'EscalateRequest';
  data: {
    requestId: string;
    round: number;
    step: number;
    /** The managers of the step's approvers (from the identity context); the parties are left out. */
    escalateTo: readonly string[];
    now: string;
  };
}

/** Sent by the scheduler at the step's `expiryDueAt`: a round still pending then expires. */
export interface ExpireRequest {
  type: 'ExpireRequest';
  data: { requestId: string; round: number; now: string };
}

/** The entitlement context granted what a round approved (a process manager reacting to AccessGranted). */
export interface RecordFulfilment {
  type: 'RecordFulfilment';
  data: { requestId: string; round: number; grants: Array<{ grantId: string; entitlement: string; expiresAt?: string }>; now: string };
}

/** The entitlement context refused the grant of an approved round (a domain refusal, not a transport failure): the round will not be granted. */
export interface RecordFulfilmentRefused {
  type: 'RecordFulfilmentRefused';
  data: { requestId: string; round: number; code: string; reason: string; now: string };
}

/** A grant of the request ended in the entitlement context (AccessRevoked: `expired`, or any other reason as `revoked`). */
export interface RecordGrantEnded {
  type: 'RecordGrantEnded';
  data: { requestId: string; grantId: string; reason: 'expired' | 'revoked'; now: string };
}

/** The beneficiary gives the access back before its end. */
export interface RevokeEarly {
  type: 'RevokeEarly';
  data: { requestId: string; revokedBy: string; reason?: string; now: string };
}

/** The beneficiary asks for more time: a new round through the request's steps, their approvers resolved again now. */
export interface RequestExtension {
  type: 'RequestExtension';
  data: { requestId: string; requestedBy: string; duration: string; justification: string; approvers: ResolvedApprovers; now: string };
}

export type RequestCommand =
  | SubmitRequest
  | DecideRequest
  | CancelRequest
  | EscalateRequest
  | ExpireRequest
  | RecordFulfilment
  | RecordFulfilmentRefused
  | RecordGrantEnded
  | RevokeEarly
  | RequestExtension;
