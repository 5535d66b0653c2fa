import type { RoleEvent } from '@custos/entitlement/contracts';
import type { RoleState } from './state';

/** evolve: a role holds the lists of its latest definition or change. */
export function evolve(_state: RoleState, event: RoleEvent): RoleState {
  switch (event.type) {
    case 'RoleDefined':
    case 'RoleChanged': {
      const { key, name, entitlements, roles } = event.data;
      return { kind: 'ActiveRole', definition: { key, name, entitlements, roles } };
    }
    default: {
      const unexpected: never = event;
      return unexpected;
    }
  }
}
