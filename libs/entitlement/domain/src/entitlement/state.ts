import type { EntitlementDefinition } from '@custos/entitlement/contracts';

export interface NoEntitlement {
  kind: 'NoEntitlement';
}

export interface ActiveEntitlement {
  kind: 'ActiveEntitlement';
  definition: EntitlementDefinition;
}

export interface RetiredEntitlement {
  kind: 'RetiredEntitlement';
  definition: EntitlementDefinition;
  retiredAt: string;
}

export type EntitlementState = NoEntitlement | ActiveEntitlement | RetiredEntitlement;

/** initialState: a key nobody has defined yet. */
export function initialState(): EntitlementState {
  return { kind: 'NoEntitlement' };
}
