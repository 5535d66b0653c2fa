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
  /** ISO 8601: how long a step of a request for it waits before it escalates (twice as long: the request expires); absent: PT48H. */
  approvalSla?: string;
  breakGlass: boolean;
  approvalPolicy: ApprovalPolicy;
  /** The managed system (a privileged-context target key) a grant of it gives an account on. */
  target?: string;
  /** The role on the target that a grant's just-in-time account is made a member of; given with `target`. */
  targetRole?: string;
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
  approvalSla?: string | null;
  breakGlass?: boolean;
  approvalPolicy?: ApprovalPolicy;
  target?: string | null;
  targetRole?: string | null;
}

/** Names that would reach an object's prototype: never a field of a definition. */
const PROTOTYPE_NAMES: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * applyEntitlementChanges is what an EntitlementChanged does to a definition, for every reader
 * of the event (the entitlement's own state, other contexts' copies of the catalog): each field
 * given takes its value, `null` clears an optional one. Read through own properties; a name
 * that would reach a prototype is never written.
 */
export function applyEntitlementChanges<D extends object>(definition: D, changes: EntitlementChanges): D {
  const next = { ...definition } as Record<string, unknown>;
  for (const [field, value] of Object.entries(changes)) {
    if (PROTOTYPE_NAMES.has(field) || value === undefined) continue;
    if (value === null) delete next[field];
    else next[field] = value;
  }
  return next as unknown as D;
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
