import type { ChangeSource, IdentityEvent, IdentitySnapshot, SupersededChange } from '@custos/identity/contracts';
import type {
  ActivateIdentity,
  AssignGroups,
  AttributeCorrections,
  CorrectIdentityAttributes,
  HireIdentity,
  IdentityCommand,
  LinkManager,
  MoveIdentity,
  RehireIdentity,
  TerminateIdentity,
} from './commands';
import {
  ActivationBeforeStartDate,
  EmployeeIdMismatch,
  IdentityAlreadyExists,
  IdentityNotFound,
  InvalidLifecycleTransition,
} from '../errors';
import { fieldChanges, identitySnapshot, normalizeGroups, withoutAbsent } from './snapshot';
import type { ExistingIdentity, IdentityState } from './state';
import { isBefore, requireTimestamp, timelinePosition } from './timeline';

/**
 * decide turns a command into the events it causes, or throws a DomainError. It never reads
 * a clock: `now` and `effectiveAt` come on the command. A command that would change nothing
 * (a second activation or termination, a move without changed fields) yields no events.
 */
export function decide(command: IdentityCommand, state: IdentityState): IdentityEvent[] {
  switch (command.type) {
    case 'HireIdentity':
      return hire(command, state);
    case 'ActivateIdentity':
      return activate(command, state);
    case 'MoveIdentity':
      return move(command, state);
    case 'TerminateIdentity':
      return terminate(command, state);
    case 'RehireIdentity':
      return rehire(command, state);
    case 'CorrectIdentityAttributes':
      return correct(command, state);
    case 'LinkManager':
      return linkManager(command, state);
    case 'AssignGroups':
      return assignGroups(command, state);
    default: {
      const unhandled: never = command;
      throw new Error(`unknown identity command ${(unhandled as { type: string }).type}`);
    }
  }
}

/** hire creates an identity once, its system of record the hire's system; it is pending when the start is still ahead of `now`, else active. */
function hire({ data }: HireIdentity, state: IdentityState): IdentityEvent[] {
  const { effectiveAt, now } = times(data);
  if (state.kind !== 'NoIdentity') throw new IdentityAlreadyExists(data.identityId);
  const status = isBefore(now, effectiveAt) ? 'pending' : 'active';
  // The system whose change hired the identity is its system of record (see IdentitySnapshot).
  const identity = identitySnapshot(data.identityId, data.employee, data.managerId, data.groups ?? [], status, data.source.system);
  return [
    {
      type: 'IdentityHired',
      data: { identityId: data.identityId, identity, effectiveAt, recordedAt: now, source: data.source },
    },
  ];
}

/** activate turns a pending identity active, not before its start date; an identity already past pending is left alone. */
function activate({ data }: ActivateIdentity, state: IdentityState): IdentityEvent[] {
  const now = requireTimestamp('now', data.now);
  const current = existing(state, data.identityId);
  if (current.kind !== 'PendingIdentity') return [];
  if (isBefore(now, current.startsAt)) throw new ActivationBeforeStartDate(data.identityId, current.startsAt, now);
  return [
    {
      type: 'IdentityActivated',
      data: {
        identityId: data.identityId,
        identity: { ...current.identity, status: 'active' },
        effectiveAt: current.startsAt,
        recordedAt: now,
      },
    },
  ];
}

/**
 * move replaces the HR record with the mover's full record. A mover older than the record
 * already applied is superseded (also on a terminated identity, where it is late data, not
 * a lifecycle error); a newer mover on a terminated identity is refused.
 */
function move({ data }: MoveIdentity, state: IdentityState): IdentityEvent[] {
  const { effectiveAt, now } = times(data);
  const current = existing(state, data.identityId);
  if (data.employee.employeeId !== current.identity.employeeId) {
    throw new EmployeeIdMismatch(data.identityId, current.identity.employeeId, data.employee.employeeId);
  }
  if (isBefore(timelinePosition(effectiveAt, now), current.recordAsOf)) {
    return superseded(data, current.recordAsOf, withoutAbsent({ kind: 'move', employee: data.employee, managerId: data.managerId }));
  }
  if (current.kind === 'TerminatedIdentity') {
    throw new InvalidLifecycleTransition(data.identityId, 'MoveIdentity', current.identity.status);
  }
  const before = current.identity;
  const identity = identitySnapshot(
    data.identityId,
    data.employee,
    managerIdAfter(before, data.employee.managerEmployeeId, data.managerId),
    before.groups,
    before.status,
    before.systemOfRecord,
  );
  const changes = fieldChanges(before, identity);
  if (changes.length === 0) return [];
  return [
    {
      type: 'IdentityMoved',
      data: { identityId: data.identityId, changes, identity, effectiveAt, recordedAt: now, source: data.source },
    },
  ];
}

/**
 * terminate ends an identity even when backdated behind other changes: a leaver is never
 * lost to ordering. Only a leaver older than the rehire that began the current employment
 * is superseded (it belonged to the previous one). Terminating twice changes nothing.
 */
function terminate({ data }: TerminateIdentity, state: IdentityState): IdentityEvent[] {
  const { effectiveAt, now } = times(data);
  const current = existing(state, data.identityId);
  if (current.kind === 'TerminatedIdentity') return [];
  if (current.rehiredAsOf !== undefined && isBefore(timelinePosition(effectiveAt, now), current.rehiredAsOf)) {
    return superseded(data, current.rehiredAsOf, { kind: 'terminate' });
  }
  return [
    {
      type: 'IdentityTerminated',
      data: {
        identityId: data.identityId,
        identity: { ...current.identity, status: 'terminated' },
        effectiveAt,
        recordedAt: now,
        source: data.source,
      },
    },
  ];
}

/** rehire brings back a terminated identity only, with a new full record, fresh groups and its system as the system of record; one older than the termination is superseded. */
function rehire({ data }: RehireIdentity, state: IdentityState): IdentityEvent[] {
  const { effectiveAt, now } = times(data);
  const current = existing(state, data.identityId);
  const groups = normalizeGroups(data.groups ?? []);
  if (isBefore(timelinePosition(effectiveAt, now), current.recordAsOf)) {
    return superseded(
      data,
      current.recordAsOf,
      withoutAbsent({ kind: 'rehire', employee: data.employee, managerId: data.managerId, groups }),
    );
  }
  if (current.kind !== 'TerminatedIdentity') {
    throw new InvalidLifecycleTransition(data.identityId, 'RehireIdentity', current.identity.status);
  }
  const before = current.identity;
  const identity = identitySnapshot(
    data.identityId,
    data.employee,
    managerIdAfter(before, data.employee.managerEmployeeId, data.managerId),
    groups,
    isBefore(now, effectiveAt) ? 'pending' : 'active',
    // A rehire begins a new employment: its system is the system of record from now on.
    data.source.system,
  );
  return [
    {
      type: 'IdentityRehired',
      data: {
        identityId: data.identityId,
        changes: fieldChanges(before, identity),
        identity,
        effectiveAt,
        recordedAt: now,
        source: data.source,
      },
    },
  ];
}

/**
 * correct fixes attributes in any lifecycle stage without being a job change. A correction
 * is not placed on HR's timeline: it fixes what the data should have said, so it is never
 * superseded and never supersedes a mover.
 */
function correct({ data }: CorrectIdentityAttributes, state: IdentityState): IdentityEvent[] {
  const { effectiveAt, now } = times(data);
  const current = existing(state, data.identityId);
  const before = current.identity;
  const identity = corrected(before, data.corrections);
  const changes = fieldChanges(before, identity);
  if (changes.length === 0) return [];
  return [
    {
      type: 'IdentityAttributesCorrected',
      data: { identityId: data.identityId, changes, identity, effectiveAt, recordedAt: now, source: data.source },
    },
  ];
}

/** linkManager records a report's manager identity once it exists, unless the report has moved to another manager since. */
function linkManager({ data }: LinkManager, state: IdentityState): IdentityEvent[] {
  const now = requireTimestamp('now', data.now);
  const current = existing(state, data.identityId);
  const before = current.identity;
  if (data.managerEmployeeId !== undefined && data.managerEmployeeId !== before.managerEmployeeId) return [];
  if (before.managerId === data.managerId) return [];
  return [
    {
      type: 'ManagerLinked',
      data: withoutAbsent({
        identityId: data.identityId,
        managerId: data.managerId,
        managerEmployeeId: before.managerEmployeeId,
        identity: { ...before, managerId: data.managerId },
        effectiveAt: now,
        recordedAt: now,
      }),
    },
  ];
}

/** assignGroups replaces group memberships; an assignment older than the last one applied is superseded. */
function assignGroups({ data }: AssignGroups, state: IdentityState): IdentityEvent[] {
  const { effectiveAt, now } = times(data);
  const current = existing(state, data.identityId);
  const groups = normalizeGroups(data.groups);
  if (isBefore(timelinePosition(effectiveAt, now), current.groupsAsOf)) {
    return superseded(data, current.groupsAsOf, { kind: 'groups', groups });
  }
  const before = current.identity.groups;
  const added = groups.filter((group) => !before.includes(group));
  const removed = before.filter((group) => !groups.includes(group));
  if (added.length === 0 && removed.length === 0) return [];
  return [
    {
      type: 'GroupsAssigned',
      data: {
        identityId: data.identityId,
        groups,
        added,
        removed,
        identity: { ...current.identity, groups },
        effectiveAt,
        recordedAt: now,
        source: data.source,
      },
    },
  ];
}

function times(data: { effectiveAt: string; now: string }): { effectiveAt: string; now: string } {
  return { effectiveAt: requireTimestamp('effectiveAt', data.effectiveAt), now: requireTimestamp('now', data.now) };
}

function existing(state: IdentityState, identityId: string): ExistingIdentity {
  if (state.kind === 'NoIdentity') throw new IdentityNotFound(identityId);
  return state;
}

function superseded(
  data: { identityId: string; effectiveAt: string; now: string; source: ChangeSource },
  supersededBy: string,
  change: SupersededChange,
): IdentityEvent[] {
  return [
    {
      type: 'IdentityChangeSuperseded',
      data: {
        identityId: data.identityId,
        change,
        supersededBy,
        effectiveAt: data.effectiveAt,
        recordedAt: data.now,
        source: data.source,
      },
    },
  ];
}

/**
 * The manager identity after a full record: the one resolved on the command, else the current
 * one while the record still names the same manager, else none (the manager has not arrived).
 */
function managerIdAfter(
  before: IdentitySnapshot,
  managerEmployeeId: string | undefined,
  resolved: string | undefined,
): string | undefined {
  if (resolved !== undefined) return resolved;
  if (managerEmployeeId !== undefined && managerEmployeeId === before.managerEmployeeId) return before.managerId;
  return undefined;
}

const CORRECTABLE: readonly (keyof AttributeCorrections)[] = [
  'givenName',
  'familyName',
  'email',
  'employmentType',
  'department',
  'title',
  'managerEmployeeId',
  'managerId',
  'location',
  'costCenter',
];

/** Applies corrections; a corrected manager employee id drops a manager identity that no longer matches it. */
function corrected(before: IdentitySnapshot, corrections: AttributeCorrections): IdentitySnapshot {
  const next: Record<string, unknown> = { ...before };
  for (const field of CORRECTABLE) {
    const value = corrections[field];
    if (value === undefined) continue;
    next[field] = value === null ? undefined : value;
  }
  const managerChanged = (next['managerEmployeeId'] ?? null) !== (before.managerEmployeeId ?? null);
  if (managerChanged && corrections.managerId === undefined) next['managerId'] = undefined;
  return withoutAbsent(next as unknown as IdentitySnapshot);
}
