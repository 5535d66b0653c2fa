import type { DesiredGrant } from '../policies/birthright-policy';

/**
 * directGrantId: a grant given by GrantAccess is `${commandId}:${entitlement}`, so a retried
 * command produces the same id (and, already issued, no second grant). An admin command given
 * again after its grant ended grants anew: its `generation`-th grant is `...~${generation}`.
 */
export function directGrantId(commandId: string, entitlement: string, generation = 1): string {
  return generation === 1 ? `${commandId}:${entitlement}` : `${commandId}:${entitlement}~${generation}`;
}

/**
 * birthrightGrantId: a birthright grant is `${commandId}:${ruleKey}:${role}:${entitlement}`:
 * one command may grant one entitlement through several rules and roles, each its own grant.
 */
export function birthrightGrantId(commandId: string, grant: DesiredGrant): string {
  return `${commandId}:${grant.ruleKey}:${grant.role}:${grant.entitlement}`;
}
