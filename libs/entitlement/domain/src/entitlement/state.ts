import type { EntitlementDefinition } from '@custos/entitlement/contracts';

export interface EmptyEntitlement {
  status: 'empty';
}

export interface ActiveEntitlement {
  status: 'active';
  definition: EntitlementDefinition;
}

export interface RetiredEntitlement {
  status: 'retired';
  definition: EntitlementDefinition;
  retiredAt: string;
}

export type EntitlementState = EmptyEntitlement | ActiveEntitlement | RetiredEntitlement;

/** initialEntitlementState: a key nobody has defined yet. */
export function initialEntitlementState(): EntitlementState {
  return { status: 'empty' };
}
