import type { DelegationEvent } from '@custos/request/contracts';
import type { DelegationState } from './state';

/** evolve: a granted delegation is added, an ended one keeps its record with `endedAt`. */
export function evolve(state: DelegationState, event: DelegationEvent): DelegationState {
  switch (event.type) {
    case 'DelegationGranted': {
      const { grantedAt: _grantedAt, ...delegation } = event.data;
      return { ...state, delegations: [...state.delegations, delegation] };
    }
    case 'DelegationEnded':
      return {
        ...state,
        delegations: state.delegations.map((delegation) => (delegation.delegationId === event.data.delegationId ? { ...delegation, endedAt: event.data.endedAt } : delegation)),
      };
    default: {
      const unexpected: never = event;
      return unexpected;
    }
  }
}
