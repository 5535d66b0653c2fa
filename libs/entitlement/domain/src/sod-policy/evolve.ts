import type { SodPolicyEvent } from '@custos/entitlement/contracts';
import type { SodPolicyState } from './state';

/** evolveSodPolicy: a policy holds its definition. */
export function evolveSodPolicy(_state: SodPolicyState, event: SodPolicyEvent): SodPolicyState {
  switch (event.type) {
    case 'SodPolicyDefined': {
      const { key, name, conflicting, mode, severity } = event.data;
      return { status: 'active', definition: { key, name, conflicting, mode, severity } };
    }
    default: {
      const unexpected: never = event.type;
      throw new Error(`unknown event ${unexpected as string}`);
    }
  }
}
