/** entitlementStreamId: each catalog entitlement is its own stream, named by its key. */
export function entitlementStreamId(key: string): string {
  return `entitlement-${key}`;
}

/** roleStreamId: each role is its own stream, named by its key. */
export function roleStreamId(key: string): string {
  return `role-${key}`;
}

/** birthrightRuleStreamId: each birthright rule is its own stream, named by its key. */
export function birthrightRuleStreamId(key: string): string {
  return `birthright-rule-${key}`;
}

/** sodPolicyStreamId: each separation-of-duties policy is its own stream, named by its key. */
export function sodPolicyStreamId(key: string): string {
  return `sod-policy-${key}`;
}

/** accessStreamId: all grants of one identity live in one stream, so its access decisions see them all. */
export function accessStreamId(identityId: string): string {
  return `access-${identityId}`;
}

/**
 * The stream categories of the entitlement context, for subscription filters
 * (`streamPrefixes`) only: build a stream id with the functions above.
 */
export const ENTITLEMENT_STREAM_PREFIXES = {
  entitlement: 'entitlement-',
  role: 'role-',
  birthrightRule: 'birthright-rule-',
  sodPolicy: 'sod-policy-',
  access: 'access-',
} as const;

/** The identity an entitlement-context event concerns: the holder of the access stream it is in (catalog events concern none). */
export function identityConcernedByEntitlementEvent(event: { subject: string }): string | undefined {
  return event.subject.startsWith(ENTITLEMENT_STREAM_PREFIXES.access) ? event.subject.slice(ENTITLEMENT_STREAM_PREFIXES.access.length) : undefined;
}
