import type { RoleDefinition } from '@custos/entitlement/contracts';

export interface EmptyRole {
  status: 'empty';
}

export interface ActiveRole {
  status: 'active';
  definition: RoleDefinition;
}

export type RoleState = EmptyRole | ActiveRole;

/** initialRoleState: a key nobody has defined yet. */
export function initialRoleState(): RoleState {
  return { status: 'empty' };
}
