import type { SodPolicyDefinition } from '@custos/entitlement/contracts';

export interface EmptySodPolicy {
  status: 'empty';
}

export interface ActiveSodPolicy {
  status: 'active';
  definition: SodPolicyDefinition;
}

export type SodPolicyState = EmptySodPolicy | ActiveSodPolicy;

/** initialSodPolicyState: a key nobody has defined yet. */
export function initialSodPolicyState(): SodPolicyState {
  return { status: 'empty' };
}
