import type { EntitlementEvent } from '@custos/entitlement/contracts';
import type { Decider } from '@custos/platform/domain';
import type { EntitlementCommand } from './commands';
import { decide } from './decide';
import { evolve } from './evolve';
import { initialState, type EntitlementState } from './state';

export * from './commands';
export type { EntitlementState, NoEntitlement, ActiveEntitlement, RetiredEntitlement } from './state';
export * from './approval-policy';

/** entitlementDecider: the catalog entitlement aggregate (stream `entitlement-{key}`). */
export const entitlementDecider: Decider<EntitlementCommand, EntitlementEvent, EntitlementState> = { initialState, decide, evolve };
