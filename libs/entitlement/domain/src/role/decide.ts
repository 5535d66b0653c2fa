import type { RoleDefinition, RoleEvent } from '@custos/entitlement/contracts';
import { AlreadyDefined, NotDefined, RoleCycle, ValidationFailed, type FieldError } from '../errors';
import { assertReferencesKnown, unique } from '../shared/references';
import type { ChangeRole, DefineRole, RoleCommand } from './commands';
import { findRoleCycle } from './role-graph';
import type { RoleState } from './state';

/**
 * decide: a role is defined once, names only existing entitlements and roles, and never
 * contains itself; a change that alters nothing records nothing.
 */
export function decide(command: RoleCommand, state: RoleState): RoleEvent[] {
  switch (command.type) {
    case 'DefineRole': {
      if (state.kind !== 'NoRole') throw new AlreadyDefined('role', command.data.key);
      const definition = checkedDefinition(command);
      return [{ type: 'RoleDefined', data: { ...definition, definedAt: command.data.now, definedBy: command.data.actor } }];
    }
    case 'ChangeRole': {
      if (state.kind === 'NoRole') throw new NotDefined('role', command.data.key);
      const definition = checkedDefinition(command);
      if (sameRole(definition, state.definition)) return [];
      return [{ type: 'RoleChanged', data: { ...definition, changedAt: command.data.now, changedBy: command.data.actor } }];
    }
    default: {
      const unexpected: never = command;
      throw new Error(`unknown command ${(unexpected as { type: string }).type}`);
    }
  }
}

function checkedDefinition({ data }: DefineRole | ChangeRole): RoleDefinition {
  const errors: FieldError[] = [];
  if (typeof data.key !== 'string' || data.key.trim() === '') errors.push({ field: 'key', message: 'must not be blank' });
  if (typeof data.name !== 'string' || data.name.trim() === '') errors.push({ field: 'name', message: 'must not be blank' });
  if (errors.length > 0) throw new ValidationFailed(errors);

  const definition: RoleDefinition = {
    key: data.key,
    name: data.name,
    entitlements: unique(data.entitlements),
    roles: unique(data.roles),
  };
  assertReferencesKnown([
    { kind: 'entitlement', keys: definition.entitlements, known: data.known.entitlements },
    // The role itself counts as known here, so self-inclusion is reported as the cycle it is.
    { kind: 'role', keys: definition.roles.filter((role) => role !== data.key), known: Object.keys(data.known.roles) },
  ]);
  const cycle = findRoleCycle(data.key, definition.roles, data.known.roles);
  if (cycle) throw new RoleCycle(cycle);
  return definition;
}

/** The order of a role's lists carries no meaning. */
function sameRole(a: RoleDefinition, b: RoleDefinition): boolean {
  const sameSet = (x: readonly string[], y: readonly string[]) => x.length === y.length && x.every((value) => y.includes(value));
  return a.name === b.name && sameSet(a.entitlements, b.entitlements) && sameSet(a.roles, b.roles);
}
