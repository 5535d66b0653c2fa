import type { SodPolicyDefinition } from '@custos/entitlement/contracts';

export interface NoSodPolicy {
  kind: 'NoSodPolicy';
}

export interface ActiveSodPolicy {
  kind: 'ActiveSodPolicy';
  definition: SodPolicyDefinition;
}

export type SodPolicyState = NoSodPolicy | ActiveSodPolicy;

/** initialState: a key nobody has defined yet. */
export function initialState(): SodPolicyState {
  return { kind: 'NoSodPolicy' };
}
