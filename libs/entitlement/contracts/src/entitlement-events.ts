import type { DomainEvent } from '@custos/platform/domain';

/** The built-in entitlement whose holders approve the `security` step of privileged requests. */
export const SECURITY_ENTITLEMENT = 'custos:security';

export type Risk = 'low' | 'medium' | 'high' | 'critical';

export type ApproverKind = 'manager' | 'owner' | 'security' | 'group';

/** One approval step: `required` approvals from the approvers the kind names (or `approverIds`). */
export interface ApprovalStep {
  kind: ApproverKind;
  approverIds?: string[];
  required: number;
}

/** Steps are approved in order. */
export interface ApprovalPolicy {
  steps: ApprovalStep[];
}

/** A catalog entitlement as defined; `approvalPolicy` is always resolved (defaults applied). */
export interface EntitlementDefinition {
  key: string;
  application: string;
  name: string;
  description?: string;
  privileged: boolean;
  risk: Risk;
  /** An identity id. */
  ownerId?: string;
  /** ISO 8601 duration capping just-in-time grants (`PT8H`). */
  maxDuration?: string;
  breakGlass: boolean;
  approvalPolicy: ApprovalPolicy;
}

export type EntitlementDefined = DomainEvent<
  'EntitlementDefined',
  EntitlementDefinition & { definedAt: string; definedBy: string }
>;

/**
 * Only the fields that changed. `null` means an optional field was cleared. When `privileged`
 * changes and the entitlement used the default approval policy, `approvalPolicy` carries the
 * new default.
 */
export interface EntitlementChanges {
  name?: string;
  description?: string | null;
  privileged?: boolean;
  risk?: Risk;
  ownerId?: string | null;
  maxDuration?: string | null;
  breakGlass?: boolean;
  approvalPolicy?: ApprovalPolicy;
}

export type EntitlementChanged = DomainEvent<
  'EntitlementChanged',
  { key: string; changes: EntitlementChanges; changedAt: string; changedBy: string }
>;

export type EntitlementRetired = DomainEvent<
  'EntitlementRetired',
  { key: string; retiredAt: string; retiredBy: string; reason?: string }
>;

export type EntitlementEvent = EntitlementDefined | EntitlementChanged | EntitlementRetired;
