import type { RoleDefinition } from '@custos/entitlement/contracts';

export interface NoRole {
  kind: 'NoRole';
}

export interface ActiveRole {
  kind: 'ActiveRole';
  definition: RoleDefinition;
}

export type RoleState = NoRole | ActiveRole;

/** initialState: a key nobody has defined yet. */
export function initialState(): RoleState {
  return { kind: 'NoRole' };
}
