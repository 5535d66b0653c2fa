import type { Grant } from '@custos/entitlement/contracts';
import { instantOf } from '../shared/time';

export interface AccessCheck {
  allowed: boolean;
  /** `unknown-identity`: the entitlement context has not heard of the identity (see the check API). */
  reason: 'granted' | 'terminated' | 'not-granted' | 'expired' | 'unknown-identity';
  /** The grants that allow it (empty when denied). */
  grantIds: string[];
  /** When the last allowing grant ends; absent when any allowing grant has no end. */
  expiresAt?: string;
}

/**
 * checkAccess: a terminated identity is denied everything; otherwise the identity may use the
 * entitlement while at least one grant of it has not reached its `expiresAt` (an end is exclusive).
 */
export function checkAccess(
  access: { terminated: boolean; grants: readonly Grant[] },
  entitlement: string,
  now: string,
): AccessCheck {
  if (access.terminated) return { allowed: false, reason: 'terminated', grantIds: [] };
  const held = access.grants.filter((grant) => grant.entitlement === entitlement);
  const at = instantOf(now, 'now');
  const live = held.filter((grant) => grant.expiresAt === undefined || instantOf(grant.expiresAt, 'expiresAt') > at);
  if (live.length === 0) return { allowed: false, reason: held.length > 0 ? 'expired' : 'not-granted', grantIds: [] };
  const grantIds = live.map((grant) => grant.grantId);
  const ends = live.map((grant) => grant.expiresAt);
  if (ends.some((end) => end === undefined)) return { allowed: true, reason: 'granted', grantIds };
  const expiresAt = (ends as string[]).reduce((latest, end) => (instantOf(end, 'expiresAt') > instantOf(latest, 'expiresAt') ? end : latest));
  return { allowed: true, reason: 'granted', grantIds, expiresAt };
}

/** grantInForce: a grant is in force until `now` reaches its `expiresAt` (an end is exclusive). */
export function grantInForce(grant: Pick<Grant, 'expiresAt'>, now: string): boolean {
  return grant.expiresAt === undefined || instantOf(grant.expiresAt, 'expiresAt') > instantOf(now, 'now');
}

/** heldEntitlements: the entitlements with at least one grant in force at `now`, each once. */
export function heldEntitlements(grants: readonly Grant[], now: string): string[] {
  return [...new Set(grants.filter((grant) => grantInForce(grant, now)).map((grant) => grant.entitlement))];
}
