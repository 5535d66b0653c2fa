import { decideRole } from './decide';
import { evolveRole } from './evolve';
import { initialRoleState } from './state';

export * from './commands';
export * from './state';
export { decideRole } from './decide';
export { evolveRole } from './evolve';
export { findRoleCycle } from './role-graph';

/** roleDecider: the role aggregate (stream `role-{key}`). */
export const roleDecider = { initialState: initialRoleState, decide: decideRole, evolve: evolveRole };
