import type {
  EntitlementChanges,
  EntitlementDefinition,
  EntitlementEvent,
  Risk,
} from '@custos/entitlement/contracts';
import { AlreadyDefined, NotDefined, Retired, ValidationFailed, type FieldError } from '../errors';
import { sameValue } from '../shared/same-value';
import { durationError } from '../policies/duration';
import { approvalPolicyErrors, defaultApprovalPolicy } from './approval-policy';
import type { ChangeEntitlement, DefineEntitlement, EntitlementCommand, RetireEntitlement } from './commands';
import type { ActiveEntitlement, EntitlementState } from './state';

const RISKS: readonly Risk[] = ['low', 'medium', 'high', 'critical'];

/** decide: a key is defined once, changes only while active, and retires once. */
export function decide(command: EntitlementCommand, state: EntitlementState): EntitlementEvent[] {
  switch (command.type) {
    case 'DefineEntitlement':
      return define(command, state);
    case 'ChangeEntitlement':
      return change(command, state);
    case 'RetireEntitlement':
      return retire(command, state);
    default: {
      const unexpected: never = command;
      throw new Error(`unknown command ${(unexpected as { type: string }).type}`);
    }
  }
}

function define({ data }: DefineEntitlement, state: EntitlementState): EntitlementEvent[] {
  if (state.kind !== 'NoEntitlement') throw new AlreadyDefined('entitlement', data.key);
  const definition: EntitlementDefinition = {
    key: data.key,
    application: data.application,
    name: data.name,
    ...(data.description !== undefined && { description: data.description }),
    privileged: data.privileged,
    risk: data.risk,
    ...(data.ownerId !== undefined && { ownerId: data.ownerId }),
    ...(data.maxDuration !== undefined && { maxDuration: data.maxDuration }),
    ...(data.approvalSla !== undefined && { approvalSla: data.approvalSla }),
    breakGlass: data.breakGlass ?? false,
    approvalPolicy: data.approvalPolicy ?? defaultApprovalPolicy(data.privileged),
    ...(data.target !== undefined && { target: data.target }),
    ...(data.targetRole !== undefined && { targetRole: data.targetRole }),
  };
  const errors = [
    ...blank('key', definition.key),
    ...blank('application', definition.application),
    ...definitionErrors(definition, data.now, definition.maxDuration),
    ...slaErrors(data.now, definition.approvalSla),
  ];
  if (errors.length > 0) throw new ValidationFailed(errors);
  return [{ type: 'EntitlementDefined', data: { ...definition, definedAt: data.now, definedBy: data.actor } }];
}

function change({ data }: ChangeEntitlement, state: EntitlementState): EntitlementEvent[] {
  const current = activeOrThrow(state, data.key);
  const privileged = data.privileged ?? current.privileged;
  const next: EntitlementDefinition = {
    ...current,
    name: data.name ?? current.name,
    privileged,
    risk: data.risk ?? current.risk,
    breakGlass: data.breakGlass ?? current.breakGlass,
    approvalPolicy: nextApprovalPolicy(current, data.approvalPolicy, privileged),
  };
  applyOptional(next, 'description', data.description);
  applyOptional(next, 'ownerId', data.ownerId);
  applyOptional(next, 'maxDuration', data.maxDuration);
  applyOptional(next, 'approvalSla', data.approvalSla);
  applyOptional(next, 'target', data.target);
  applyOptional(next, 'targetRole', data.targetRole);
  // Only a maxDuration given now is checked: one stored before durations were bounded must not block other changes.
  const errors = [...definitionErrors(next, data.now, data.maxDuration ?? undefined), ...slaErrors(data.now, data.approvalSla ?? undefined)];
  if (errors.length > 0) throw new ValidationFailed(errors);

  const changes = diff(current, next);
  if (Object.keys(changes).length === 0) return [];
  return [{ type: 'EntitlementChanged', data: { key: data.key, changes, changedAt: data.now, changedBy: data.actor } }];
}

function retire({ data }: RetireEntitlement, state: EntitlementState): EntitlementEvent[] {
  if (state.kind === 'NoEntitlement') throw new NotDefined('entitlement', data.key);
  if (state.kind === 'RetiredEntitlement') return [];
  return [
    {
      type: 'EntitlementRetired',
      data: { key: data.key, retiredAt: data.now, retiredBy: data.actor, ...(data.reason !== undefined && { reason: data.reason }) },
    },
  ];
}

function activeOrThrow(state: EntitlementState, key: string): ActiveEntitlement['definition'] {
  switch (state.kind) {
    case 'NoEntitlement':
      throw new NotDefined('entitlement', key);
    case 'RetiredEntitlement':
      throw new Retired('entitlement', key);
    case 'ActiveEntitlement':
      return state.definition;
  }
}

/** An entitlement on the default policy follows the default when `privileged` changes; a custom policy stays. */
function nextApprovalPolicy(
  current: EntitlementDefinition,
  requested: ChangeEntitlement['data']['approvalPolicy'],
  privileged: boolean,
): EntitlementDefinition['approvalPolicy'] {
  if (requested === null) return defaultApprovalPolicy(privileged);
  if (requested !== undefined) return requested;
  return sameValue(current.approvalPolicy, defaultApprovalPolicy(current.privileged))
    ? defaultApprovalPolicy(privileged)
    : current.approvalPolicy;
}

type OptionalField = 'description' | 'ownerId' | 'maxDuration' | 'approvalSla' | 'target' | 'targetRole';

function applyOptional(next: EntitlementDefinition, field: OptionalField, value: string | null | undefined): void {
  if (value === null) delete next[field];
  else if (value !== undefined) next[field] = value;
}

function diff(current: EntitlementDefinition, next: EntitlementDefinition): EntitlementChanges {
  const changes: EntitlementChanges = {};
  if (next.name !== current.name) changes.name = next.name;
  if (next.privileged !== current.privileged) changes.privileged = next.privileged;
  if (next.risk !== current.risk) changes.risk = next.risk;
  if (next.breakGlass !== current.breakGlass) changes.breakGlass = next.breakGlass;
  if (!sameValue(next.approvalPolicy, current.approvalPolicy)) changes.approvalPolicy = next.approvalPolicy;
  for (const field of ['description', 'ownerId', 'maxDuration', 'approvalSla', 'target', 'targetRole'] as const) {
    if (next[field] !== current[field]) changes[field] = next[field] ?? null;
  }
  return changes;
}

/** An approval SLA, when one is given, is a positive duration of at most ten years, as a maxDuration is. */
function slaErrors(now: string, approvalSla: string | undefined): FieldError[] {
  const error = approvalSla === undefined ? undefined : durationError(now, approvalSla, 'approvalSla');
  return error ? [error] : [];
}

/** A maxDuration, when one is given, is a duration of at most ten years (see durationError). */
function definitionErrors(definition: EntitlementDefinition, now: string, maxDuration: string | undefined): FieldError[] {
  const errors = blank('name', definition.name);
  if (!RISKS.includes(definition.risk)) errors.push({ field: 'risk', message: `must be one of ${RISKS.join(', ')}` });
  const maxDurationError = maxDuration === undefined ? undefined : durationError(now, maxDuration, 'maxDuration');
  if (maxDurationError) errors.push(maxDurationError);
  errors.push(...targetErrors(definition));
  return [...errors, ...approvalPolicyErrors(definition.approvalPolicy, definition.privileged)];
}

/** A target-linked entitlement names both the target and the role on it that its grants' accounts join; a role is a lowercase SQL identifier. */
function targetErrors({ target, targetRole }: EntitlementDefinition): FieldError[] {
  if (target === undefined && targetRole === undefined) return [];
  if (target === undefined) return [{ field: 'target', message: 'is required with targetRole' }];
  if (targetRole === undefined) return [{ field: 'targetRole', message: 'is required with target' }];
  const errors = blank('target', target);
  if (!TARGET_ROLE.test(targetRole)) errors.push({ field: 'targetRole', message: 'must be a lowercase role name: a letter or _, then letters, digits or _ (at most 63)' });
  return errors;
}

const TARGET_ROLE = /^[a-z_][a-z0-9_]{0,62}$/;

function blank(field: string, value: string | undefined): FieldError[] {
  return typeof value === 'string' && value.trim() !== '' ? [] : [{ field, message: 'must not be blank' }];
}
