/*
 * The shapes the request context's events share. They mirror the entitlement context's catalog
 * types structurally (`ApproverKind`, `ApprovalPolicy`, `SodConflict`, the evaluate-sod answer)
 * without importing them: an entitlement's values fit these types as they are, and a stored
 * request event never changes because the catalog's types did.
 */

/** Who approves a step: the beneficiary's manager, the entitlement's owner, the holders of `custos:security`, or listed identities. */
export type ApproverKind = 'manager' | 'owner' | 'security' | 'group';

/** What a request asks for: one catalog entitlement, or a role (all its entitlements). */
export interface RequestTarget {
  kind: 'entitlement' | 'role';
  key: string;
}

/** One step of an entitlement's approval policy, as the catalog defines it (entitlement's `ApprovalStep`). */
export interface ApprovalPolicyStep {
  kind: ApproverKind;
  /** The approvers of a `group` step. */
  approverIds?: string[];
  /** N of the step's M approvers. */
  required: number;
}

/** An entitlement's approval policy (entitlement's `ApprovalPolicy`): steps in order. */
export interface ApprovalPolicy {
  steps: ApprovalPolicyStep[];
}

/** One violated separation-of-duties policy (entitlement's `SodConflict`). */
export interface SodConflict {
  policyKey: string;
  mode: 'prevent' | 'approve';
  severity: 'low' | 'medium' | 'high' | 'critical';
  left: string[];
  right: string[];
}

/** What `rpc.entitlement.evaluate-sod` answered for the request (entitlement's `EvaluateSodResult`). */
export interface SodEvaluation {
  outcome: 'allow' | 'approve' | 'prevent';
  violations: SodConflict[];
}

/**
 * A step as routed for one request: its approvers resolved and frozen, so the audit trail shows
 * who could decide. `required` of `approverIds` must approve; one deny ends the request.
 */
export interface RoutedStep {
  kind: ApproverKind;
  approverIds: string[];
  required: number;
  /** The policy's step this one replaces: it had too few approvers and was routed to security. */
  routedFrom?: ApproverKind;
  /** The `approve` SoD conflicts this step accepts: each approval must carry an exception justification. */
  sodConflicts?: SodConflict[];
}

export type Decision = 'approve' | 'deny';

/**
 * Why a decision (or a break-glass review) was refused and recorded as refused: the refused
 * identity is the requester or the beneficiary (directly, as a delegate, or through a delegator
 * who is), is no eligible approver of the current step, or did not sign in with a second factor
 * for a privileged entitlement. Each is also the code of the domain error the edge answers with.
 */
export type RefusalReason = 'self-approval' | 'not-eligible-approver' | 'step-up-required';

/** An SoD exception approved by the security step, handed to the grant (entitlement's `GrantAccess.sodException` plus the conflicts). */
export interface ApprovedSodException {
  conflicts: SodConflict[];
  /** The exception justification of the approval that completed the step. */
  reason: string;
  approvedBy: string;
}
