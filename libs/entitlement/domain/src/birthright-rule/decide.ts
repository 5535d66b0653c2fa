import type { BirthrightRuleDefinition, BirthrightRuleEvent } from '@custos/entitlement/contracts';
import { AlreadyDefined, NotDefined, ValidationFailed, type FieldError } from '../errors';
import { assertReferencesKnown, unique } from '../shared/references';
import { sameValue } from '../shared/same-value';
import type { BirthrightRuleCommand, ChangeBirthrightRule, DefineBirthrightRule } from './commands';
import { normalizeWhen } from './conditions';
import type { BirthrightRuleState } from './state';

/**
 * decide: a rule is defined once, has conditions (or `{ all: true }`), grants at
 * least one existing role; a change that alters nothing records nothing.
 */
export function decide(command: BirthrightRuleCommand, state: BirthrightRuleState): BirthrightRuleEvent[] {
  switch (command.type) {
    case 'DefineBirthrightRule': {
      if (state.kind !== 'NoBirthrightRule') throw new AlreadyDefined('birthright-rule', command.data.key);
      const definition = checkedDefinition(command);
      return [{ type: 'BirthrightRuleDefined', data: { ...definition, definedAt: command.data.now, definedBy: command.data.actor } }];
    }
    case 'ChangeBirthrightRule': {
      if (state.kind === 'NoBirthrightRule') throw new NotDefined('birthright-rule', command.data.key);
      const definition = checkedDefinition(command);
      const before = state.definition;
      const unchanged =
        before.name === definition.name &&
        sameValue(before.when, definition.when) &&
        sameValue([...before.roles].sort(), [...definition.roles].sort());
      if (unchanged) return [];
      return [{ type: 'BirthrightRuleChanged', data: { ...definition, changedAt: command.data.now, changedBy: command.data.actor } }];
    }
    default: {
      const unexpected: never = command;
      throw new Error(`unknown command ${(unexpected as { type: string }).type}`);
    }
  }
}

function checkedDefinition({ data }: DefineBirthrightRule | ChangeBirthrightRule): BirthrightRuleDefinition {
  const errors: FieldError[] = [];
  if (typeof data.key !== 'string' || data.key.trim() === '') errors.push({ field: 'key', message: 'must not be blank' });
  if (typeof data.name !== 'string' || data.name.trim() === '') errors.push({ field: 'name', message: 'must not be blank' });
  if (!Array.isArray(data.roles) || data.roles.length === 0) errors.push({ field: 'roles', message: 'must name at least one role' });
  if (errors.length > 0) throw new ValidationFailed(errors);

  const when = normalizeWhen(data.key, data.when);
  const roles = unique(data.roles);
  assertReferencesKnown([{ kind: 'role', keys: roles, known: data.knownRoles }]);
  return { key: data.key, name: data.name, when, roles };
}
