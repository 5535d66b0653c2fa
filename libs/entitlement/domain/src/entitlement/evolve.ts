import { applyEntitlementChanges, type EntitlementEvent } from '@custos/entitlement/contracts';
import type { EntitlementState } from './state';

/** evolve: a definition becomes active, takes each change as a patch, and ends retired. */
export function evolve(state: EntitlementState, event: EntitlementEvent): EntitlementState {
  switch (event.type) {
    case 'EntitlementDefined': {
      const { definedAt: _definedAt, definedBy: _definedBy, ...definition } = event.data;
      return { kind: 'ActiveEntitlement', definition };
    }
    case 'EntitlementChanged': {
      if (state.kind === 'NoEntitlement') return state;
      return { ...state, definition: applyEntitlementChanges(state.definition, event.data.changes) };
    }
    case 'EntitlementRetired':
      return state.kind === 'NoEntitlement' ? state : { kind: 'RetiredEntitlement', definition: state.definition, retiredAt: event.data.retiredAt };
    default: {
      const unexpected: never = event;
      return unexpected;
    }
  }
}
