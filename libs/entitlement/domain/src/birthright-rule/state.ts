import type { BirthrightRuleDefinition } from '@custos/entitlement/contracts';

export interface NoBirthrightRule {
  kind: 'NoBirthrightRule';
}

export interface ActiveBirthrightRule {
  kind: 'ActiveBirthrightRule';
  definition: BirthrightRuleDefinition;
}

export type BirthrightRuleState = NoBirthrightRule | ActiveBirthrightRule;

/** initialState: a key nobody has defined yet. */
export function initialState(): BirthrightRuleState {
  return { kind: 'NoBirthrightRule' };
}
