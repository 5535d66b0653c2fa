import type { RoleEvent } from '@custos/entitlement/contracts';
import type { Decider } from '@custos/platform/domain';
import type { RoleCommand } from './commands';
import { decide } from './decide';
import { evolve } from './evolve';
import { initialState, type RoleState } from './state';

export * from './commands';
export type { RoleState, NoRole, ActiveRole } from './state';
export { findRoleCycle } from './role-graph';

/** roleDecider: the role aggregate (stream `role-{key}`). */
export const roleDecider: Decider<RoleCommand, RoleEvent, RoleState> = { initialState, decide, evolve };
