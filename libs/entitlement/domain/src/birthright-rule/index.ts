import { decideBirthrightRule } from './decide';
import { evolveBirthrightRule } from './evolve';
import { initialBirthrightRuleState } from './state';

export * from './commands';
export * from './state';
export { decideBirthrightRule } from './decide';
export { evolveBirthrightRule } from './evolve';
export { normalizeWhen } from './conditions';

/** birthrightRuleDecider: the birthright rule aggregate (stream `birthright-rule-{key}`). */
export const birthrightRuleDecider = {
  initialState: initialBirthrightRuleState,
  decide: decideBirthrightRule,
  evolve: evolveBirthrightRule,
};
