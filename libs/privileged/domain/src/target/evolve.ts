import type { TargetEvent } from '@custos/privileged/contracts';
import type { TargetState } from './state';

/** evolve: a registration makes the target known. */
export function evolve(state: TargetState, event: TargetEvent): TargetState {
  switch (event.type) {
    case 'TargetRegistered': {
      const { registeredAt: _at, registeredBy: _by, ...definition } = event.data;
      return { kind: 'RegisteredTarget', definition };
    }
    case 'UnexplainedAccountDropped':
      return state;
    default: {
      const unexpected: never = event;
      return unexpected;
    }
  }
}
