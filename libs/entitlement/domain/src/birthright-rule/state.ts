import type { BirthrightRuleDefinition } from '@custos/entitlement/contracts';

export interface EmptyBirthrightRule {
  status: 'empty';
}

export interface ActiveBirthrightRule {
  status: 'active';
  definition: BirthrightRuleDefinition;
}

export type BirthrightRuleState = EmptyBirthrightRule | ActiveBirthrightRule;

/** initialBirthrightRuleState: a key nobody has defined yet. */
export function initialBirthrightRuleState(): BirthrightRuleState {
  return { status: 'empty' };
}
