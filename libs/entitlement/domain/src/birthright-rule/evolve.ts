import type { BirthrightRuleEvent } from '@custos/entitlement/contracts';
import type { BirthrightRuleState } from './state';

/** evolve: a rule holds the conditions and roles of its latest definition or change. */
export function evolve(_state: BirthrightRuleState, event: BirthrightRuleEvent): BirthrightRuleState {
  switch (event.type) {
    case 'BirthrightRuleDefined':
    case 'BirthrightRuleChanged': {
      const { key, name, when, roles } = event.data;
      return { kind: 'ActiveBirthrightRule', definition: { key, name, when, roles } };
    }
    default: {
      const unexpected: never = event;
      return unexpected;
    }
  }
}
