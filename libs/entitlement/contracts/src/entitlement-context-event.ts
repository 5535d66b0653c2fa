import type { AccessEvent } from './access-events';
import type { BirthrightRuleEvent } from './birthright-rule-events';
import type { EntitlementEvent } from './entitlement-events';
import type { RoleEvent } from './role-events';
import type { SodPolicyEvent } from './sod-policy-events';

/** Every event the entitlement context publishes. */
export type EntitlementContextEvent = EntitlementEvent | RoleEvent | BirthrightRuleEvent | SodPolicyEvent | AccessEvent;
