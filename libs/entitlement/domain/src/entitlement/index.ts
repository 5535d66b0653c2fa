import type { EntitlementEvent } from '@custos/entitlement/contracts';
import type { EntitlementCommand } from './commands';
import { decideEntitlement } from './decide';
import { evolveEntitlement } from './evolve';
import { initialEntitlementState, type EntitlementState } from './state';

export * from './commands';
export * from './state';
export * from './approval-policy';
export { decideEntitlement } from './decide';
export { evolveEntitlement } from './evolve';

/** entitlementDecider: the catalog entitlement aggregate (stream `entitlement-{key}`). */
export const entitlementDecider = {
  initialState: initialEntitlementState,
  decide: decideEntitlement,
  evolve: evolveEntitlement,
} satisfies { initialState: () => EntitlementState; decide: (c: EntitlementCommand, s: EntitlementState) => EntitlementEvent[]; evolve: (s: EntitlementState, e: EntitlementEvent) => EntitlementState };
