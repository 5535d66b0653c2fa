import type { SodMode, SodPolicyDefinition, SodPolicyEvent, SodSeverity } from '@custos/entitlement/contracts';
import { AlreadyDefined, ValidationFailed, type FieldError } from '../errors';
import { assertReferencesKnown, unique } from '../shared/references';
import type { DefineSodPolicy, SodPolicyCommand } from './commands';
import type { SodPolicyState } from './state';

const MODES: readonly SodMode[] = ['prevent', 'approve'];
const SEVERITIES: readonly SodSeverity[] = ['low', 'medium', 'high', 'critical'];

/**
 * decide: a policy is defined once and opposes two non-empty, disjoint sets of existing
 * entitlements; mode defaults to `prevent`, severity to `high`.
 */
export function decide(command: SodPolicyCommand, state: SodPolicyState): SodPolicyEvent[] {
  switch (command.type) {
    case 'DefineSodPolicy': {
      if (state.kind !== 'NoSodPolicy') throw new AlreadyDefined('sod-policy', command.data.key);
      const definition = checkedDefinition(command);
      return [{ type: 'SodPolicyDefined', data: { ...definition, definedAt: command.data.now, definedBy: command.data.actor } }];
    }
    default: {
      const unexpected: never = command.type;
      throw new Error(`unknown command ${unexpected as string}`);
    }
  }
}

function checkedDefinition({ data }: DefineSodPolicy): SodPolicyDefinition {
  const mode = data.mode ?? 'prevent';
  const severity = data.severity ?? 'high';
  const errors: FieldError[] = [];
  if (typeof data.key !== 'string' || data.key.trim() === '') errors.push({ field: 'key', message: 'must not be blank' });
  if (typeof data.name !== 'string' || data.name.trim() === '') errors.push({ field: 'name', message: 'must not be blank' });
  if (!MODES.includes(mode)) errors.push({ field: 'mode', message: `must be one of ${MODES.join(', ')}` });
  if (!SEVERITIES.includes(severity)) errors.push({ field: 'severity', message: `must be one of ${SEVERITIES.join(', ')}` });

  const sets = data.conflicting;
  if (!Array.isArray(sets) || sets.length !== 2 || !sets.every(Array.isArray)) {
    errors.push({ field: 'conflicting', message: 'must be two sets of entitlement keys' });
    throw new ValidationFailed(errors);
  }
  const [left, right] = [unique(sets[0]), unique(sets[1])];
  if (left.length === 0) errors.push({ field: 'conflicting[0]', message: 'must name at least one entitlement' });
  if (right.length === 0) errors.push({ field: 'conflicting[1]', message: 'must name at least one entitlement' });
  const onBothSides = left.filter((key) => right.includes(key));
  if (onBothSides.length > 0) {
    errors.push({ field: 'conflicting', message: `an entitlement cannot conflict with itself: ${onBothSides.join(', ')}` });
  }
  if (errors.length > 0) throw new ValidationFailed(errors);

  assertReferencesKnown([{ kind: 'entitlement', keys: [...left, ...right], known: data.knownEntitlements }]);
  return { key: data.key, name: data.name, conflicting: [left, right], mode, severity };
}
