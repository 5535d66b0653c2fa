import type { BirthrightRuleEvent } from '@custos/entitlement/contracts';
import type { Decider } from '@custos/platform/domain';
import type { BirthrightRuleCommand } from './commands';
import { decide } from './decide';
import { evolve } from './evolve';
import { initialState, type BirthrightRuleState } from './state';

export * from './commands';
export type { BirthrightRuleState, NoBirthrightRule, ActiveBirthrightRule } from './state';
export { normalizeWhen } from './conditions';

/** birthrightRuleDecider: the birthright rule aggregate (stream `birthright-rule-{key}`). */
export const birthrightRuleDecider: Decider<BirthrightRuleCommand, BirthrightRuleEvent, BirthrightRuleState> = { initialState, decide, evolve };
