import type { SodPolicyEvent } from '@custos/entitlement/contracts';
import type { SodPolicyState } from './state';

/** evolve: a policy holds its definition. */
export function evolve(_state: SodPolicyState, event: SodPolicyEvent): SodPolicyState {
  switch (event.type) {
    case 'SodPolicyDefined': {
      const { key, name, conflicting, mode, severity } = event.data;
      return { kind: 'ActiveSodPolicy', definition: { key, name, conflicting, mode, severity } };
    }
    default: {
      const unexpected: never = event.type;
      throw new Error(`unknown event ${unexpected as string}`);
    }
  }
}
