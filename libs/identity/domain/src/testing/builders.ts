/*
 * Builders with defaults for identity specs (here and in the application layer): every
 * builder returns a complete event or command, and an override names only what a spec is about.
 * Not exported from index.ts: production code never needs them.
 */
import {
  IDENTITY_FIELDS,
  type ChangeSource,
  type EmployeeRecord,
  type FieldChange,
  type GroupsAssigned,
  type IdentityActivated,
  type IdentityAttributesCorrected,
  type IdentityChangeSuperseded,
  type IdentityHired,
  type IdentityMoved,
  type IdentityRehired,
  type IdentityTerminated,
  type ManagerLinked,
  type IdentitySnapshot,
  type SupersededChange,
} from '@custos/identity/contracts';
import type {
  ActivateIdentity,
  AssignGroups,
  AttributeCorrections,
  CorrectIdentityAttributes,
  HireIdentity,
  LinkManager,
  MoveIdentity,
  RehireIdentity,
  TerminateIdentity,
} from '../identity/commands';

/** A day in June 2026 at 09:00 UTC: `june(15)`. */
export const june = (day: number): string => `2026-06-${String(day).padStart(2, '0')}T09:00:00.000Z`;

/** The fixed clock of the specs. */
export const NOW = june(15);
export const IDENTITY_ID = 'id-ada';
export const HR: ChangeSource = { system: 'workday', eventId: 'wd-000123', channel: 'webhook' };
export const SCIM: ChangeSource = { system: 'okta', channel: 'scim' };

export function employee(overrides: Partial<EmployeeRecord> = {}): EmployeeRecord {
  return {
    employeeId: 'E1001',
    givenName: 'Ada',
    familyName: 'Lovelace',
    email: 'ada@example.com',
    department: 'Engineering',
    title: 'Engineer',
    managerEmployeeId: 'E1000',
    location: 'London',
    costCenter: 'CC-10',
    employmentType: 'employee',
    ...overrides,
  };
}

/** A snapshot of an identity hired through HR (`systemOfRecord` is HR's system); `systemOfRecord: undefined` for one recorded before it was kept. */
export function snapshot(overrides: Partial<IdentitySnapshot> = {}): IdentitySnapshot {
  return { identityId: IDENTITY_ID, ...employee(), groups: [], status: 'active', systemOfRecord: HR.system, ...overrides };
}

const SNAPSHOT_KEYS = new Set<string>([...IDENTITY_FIELDS, 'identityId', 'groups', 'status', 'systemOfRecord']);

type Times = { effectiveAt?: string; recordedAt?: string };
type WithSnapshot<Extra = object> = Partial<IdentitySnapshot> & Times & { source?: ChangeSource } & Extra;

/** Splits flat overrides into snapshot attributes and the rest of the payload. */
function split<T extends object>(overrides: T): { identity: Partial<IdentitySnapshot>; rest: Record<string, unknown> } {
  const identity: Record<string, unknown> = {};
  const rest: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(overrides)) (SNAPSHOT_KEYS.has(key) ? identity : rest)[key] = value;
  return { identity: identity as Partial<IdentitySnapshot>, rest };
}

/** Drops snapshot keys set to undefined, as the decider does, so `{ department: undefined }` means "no department". */
function cleaned(identity: IdentitySnapshot): IdentitySnapshot {
  return Object.fromEntries(Object.entries(identity).filter(([, v]) => v !== undefined)) as IdentitySnapshot;
}

/** An active hire effective and recorded on June 1 unless overridden. */
export function identityHired(overrides: WithSnapshot = {}): IdentityHired {
  const { identity, rest } = split(overrides);
  const full = cleaned(snapshot(identity));
  return {
    type: 'IdentityHired',
    data: { identityId: full.identityId, identity: full, effectiveAt: june(1), recordedAt: june(1), source: HR, ...rest },
  };
}

export function identityActivated(overrides: WithSnapshot = {}): IdentityActivated {
  const { identity, rest } = split(overrides);
  const full = cleaned(snapshot(identity));
  return {
    type: 'IdentityActivated',
    data: { identityId: full.identityId, identity: full, effectiveAt: june(1), recordedAt: june(1), ...rest },
  };
}

export function identityMoved(overrides: WithSnapshot<{ changes?: FieldChange[] }> = {}): IdentityMoved {
  const { identity, rest } = split(overrides);
  const full = cleaned(snapshot(identity));
  return {
    type: 'IdentityMoved',
    data: { identityId: full.identityId, changes: [], identity: full, effectiveAt: june(10), recordedAt: june(10), source: HR, ...rest },
  };
}

export function identityTerminated(overrides: WithSnapshot = {}): IdentityTerminated {
  const { identity, rest } = split(overrides);
  const full = cleaned(snapshot({ status: 'terminated', ...identity }));
  return {
    type: 'IdentityTerminated',
    data: { identityId: full.identityId, identity: full, effectiveAt: june(12), recordedAt: june(12), source: HR, ...rest },
  };
}

export function identityRehired(overrides: WithSnapshot<{ changes?: FieldChange[] }> = {}): IdentityRehired {
  const { identity, rest } = split(overrides);
  const full = cleaned(snapshot(identity));
  return {
    type: 'IdentityRehired',
    data: { identityId: full.identityId, changes: [], identity: full, effectiveAt: june(14), recordedAt: june(14), source: HR, ...rest },
  };
}

export function identityAttributesCorrected(
  overrides: WithSnapshot<{ changes?: FieldChange[] }> = {},
): IdentityAttributesCorrected {
  const { identity, rest } = split(overrides);
  const full = cleaned(snapshot(identity));
  return {
    type: 'IdentityAttributesCorrected',
    data: { identityId: full.identityId, changes: [], identity: full, effectiveAt: NOW, recordedAt: NOW, source: HR, ...rest },
  };
}

export function managerLinked(overrides: WithSnapshot = {}): ManagerLinked {
  const { identity, rest } = split(overrides);
  const full = cleaned(snapshot({ managerId: 'id-manager', ...identity }));
  const managerEmployeeId = full.managerEmployeeId === undefined ? {} : { managerEmployeeId: full.managerEmployeeId };
  return {
    type: 'ManagerLinked',
    data: {
      identityId: full.identityId,
      managerId: full.managerId as string,
      ...managerEmployeeId,
      identity: full,
      effectiveAt: NOW,
      recordedAt: NOW,
      ...rest,
    },
  };
}

export function groupsAssigned(
  overrides: WithSnapshot<{ added?: string[]; removed?: string[] }> = {},
): GroupsAssigned {
  const { identity, rest } = split(overrides);
  const full = cleaned(snapshot(identity));
  return {
    type: 'GroupsAssigned',
    data: {
      identityId: full.identityId,
      groups: full.groups,
      added: full.groups,
      removed: [],
      identity: full,
      effectiveAt: NOW,
      recordedAt: NOW,
      source: SCIM,
      ...rest,
    },
  };
}

export function identityChangeSuperseded(
  overrides: { change?: SupersededChange; supersededBy?: string; identityId?: string; source?: ChangeSource } & Times = {},
): IdentityChangeSuperseded {
  return {
    type: 'IdentityChangeSuperseded',
    data: {
      identityId: IDENTITY_ID,
      change: { kind: 'terminate' },
      supersededBy: june(10),
      effectiveAt: june(5),
      recordedAt: NOW,
      source: HR,
      ...overrides,
    },
  };
}

type HrTimes = { effectiveAt?: string; now?: string; source?: ChangeSource; identityId?: string };

export function hireIdentity(
  overrides: Partial<EmployeeRecord> & HrTimes & { managerId?: string; groups?: string[] } = {},
): HireIdentity {
  const { effectiveAt = NOW, now = NOW, source = HR, identityId = IDENTITY_ID, managerId, groups, ...record } = overrides;
  const data: HireIdentity['data'] = { identityId, employee: employee(record), effectiveAt, now, source };
  if (managerId !== undefined) data.managerId = managerId;
  if (groups !== undefined) data.groups = groups;
  return { type: 'HireIdentity', data };
}

export function activateIdentity(overrides: { now?: string; identityId?: string } = {}): ActivateIdentity {
  return { type: 'ActivateIdentity', data: { identityId: IDENTITY_ID, now: NOW, ...overrides } };
}

export function moveIdentity(overrides: Partial<EmployeeRecord> & HrTimes & { managerId?: string } = {}): MoveIdentity {
  const { effectiveAt = NOW, now = NOW, source = HR, identityId = IDENTITY_ID, managerId, ...record } = overrides;
  const data: MoveIdentity['data'] = { identityId, employee: employee(record), effectiveAt, now, source };
  if (managerId !== undefined) data.managerId = managerId;
  return { type: 'MoveIdentity', data };
}

export function terminateIdentity(overrides: HrTimes = {}): TerminateIdentity {
  return { type: 'TerminateIdentity', data: { identityId: IDENTITY_ID, effectiveAt: NOW, now: NOW, source: HR, ...overrides } };
}

export function rehireIdentity(
  overrides: Partial<EmployeeRecord> & HrTimes & { managerId?: string; groups?: string[] } = {},
): RehireIdentity {
  const { effectiveAt = NOW, now = NOW, source = HR, identityId = IDENTITY_ID, managerId, groups, ...record } = overrides;
  const data: RehireIdentity['data'] = { identityId, employee: employee(record), effectiveAt, now, source };
  if (managerId !== undefined) data.managerId = managerId;
  if (groups !== undefined) data.groups = groups;
  return { type: 'RehireIdentity', data };
}

export function correctIdentityAttributes(corrections: AttributeCorrections, overrides: HrTimes = {}): CorrectIdentityAttributes {
  return {
    type: 'CorrectIdentityAttributes',
    data: { identityId: IDENTITY_ID, corrections, effectiveAt: NOW, now: NOW, source: HR, ...overrides },
  };
}

export function linkManager(overrides: Partial<LinkManager['data']> = {}): LinkManager {
  return { type: 'LinkManager', data: { identityId: IDENTITY_ID, managerId: 'id-manager', now: NOW, ...overrides } };
}

export function assignGroups(groups: string[], overrides: HrTimes = {}): AssignGroups {
  return {
    type: 'AssignGroups',
    data: { identityId: IDENTITY_ID, groups, effectiveAt: NOW, now: NOW, source: SCIM, ...overrides },
  };
}
