import type { TargetDefinition } from '@custos/privileged/contracts';

export interface NoTarget {
  kind: 'NoTarget';
}

export interface RegisteredTarget {
  kind: 'RegisteredTarget';
  definition: TargetDefinition;
}

export type TargetState = NoTarget | RegisteredTarget;

/** initialState: nothing registered under the key. */
export function initialState(): TargetState {
  return { kind: 'NoTarget' };
}
