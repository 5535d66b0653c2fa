import type { EntitlementDefinition, EntitlementEvent } from '@custos/entitlement/contracts';
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
      const definition: EntitlementDefinition = { ...state.definition };
      for (const [field, value] of Object.entries(event.data.changes)) {
        if (value === null) delete (definition as unknown as Record<string, unknown>)[field];
        else (definition as unknown as Record<string, unknown>)[field] = value;
      }
      return { ...state, definition };
    }
    case 'EntitlementRetired':
      return state.kind === 'NoEntitlement' ? state : { kind: 'RetiredEntitlement', definition: state.definition, retiredAt: event.data.retiredAt };
    default: {
      const unexpected: never = event;
      return unexpected;
    }
  }
}
