export * from './domain-event';
export * from './stream-ids';
export * from './entitlement-events';
export * from './role-events';
export * from './birthright-rule-events';
export * from './sod-policy-events';
export * from './access-events';

import type { AccessEvent } from './access-events';
import type { BirthrightRuleEvent } from './birthright-rule-events';
import type { EntitlementEvent } from './entitlement-events';
import type { RoleEvent } from './role-events';
import type { SodPolicyEvent } from './sod-policy-events';

/** Every event the entitlement context publishes. */
export type EntitlementContextEvent = EntitlementEvent | RoleEvent | BirthrightRuleEvent | SodPolicyEvent | AccessEvent;
