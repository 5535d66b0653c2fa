import type { ChangeSource, EmployeeRecord, FieldChange, IdentitySnapshot } from './identity-snapshot';

/** The context name used in CloudEvents `source` (`/custos/identity`) and `type` (`custos.identity.<EventName>.v1`). */
export const IDENTITY_CONTEXT = 'identity';

/**
 * Times on identity events: `effectiveAt` is when the change takes effect in HR's terms,
 * `recordedAt` is when Custos recorded it (the command's `now`). Both RFC 3339 UTC.
 */
export interface EventTimes {
  effectiveAt: string;
  recordedAt: string;
}

/** A person joined. `identity.status` is `pending` when the start (`effectiveAt`) was still ahead, else `active`. */
export interface IdentityHired extends EventTimes {
  identityId: string;
  identity: IdentitySnapshot;
  source: ChangeSource;
}

/** A pending identity reached its start date. `effectiveAt` is the start date. */
export interface IdentityActivated extends EventTimes {
  identityId: string;
  identity: IdentitySnapshot;
}

/** HR changed the record (a job change). `changes` names each changed attribute. */
export interface IdentityMoved extends EventTimes {
  identityId: string;
  changes: FieldChange[];
  identity: IdentitySnapshot;
  source: ChangeSource;
}

/** A person left. A backdated leaver (`effectiveAt` in the past) is still a leaver. */
export interface IdentityTerminated extends EventTimes {
  identityId: string;
  identity: IdentitySnapshot;
  source: ChangeSource;
}

/**
 * A terminated person came back. `identity.status` is `pending` when the rehire date was
 * still ahead, else `active`. `changes` compares the new record with the one at termination;
 * groups start empty unless the rehire assigned some.
 */
export interface IdentityRehired extends EventTimes {
  identityId: string;
  changes: FieldChange[];
  identity: IdentitySnapshot;
  source: ChangeSource;
}

/** Data was fixed (a misspelt name, a wrong email): not a job change. */
export interface IdentityAttributesCorrected extends EventTimes {
  identityId: string;
  changes: FieldChange[];
  identity: IdentitySnapshot;
  source: ChangeSource;
}

/** A report's manager now has an identity (`identity.managerId` is set). */
export interface ManagerLinked extends EventTimes {
  identityId: string;
  managerId: string;
  managerEmployeeId?: string;
  identity: IdentitySnapshot;
}

/** Group memberships were replaced (SCIM groups); birthright rules can match them. */
export interface GroupsAssigned extends EventTimes {
  identityId: string;
  groups: string[];
  added: string[];
  removed: string[];
  identity: IdentitySnapshot;
  source: ChangeSource;
}

/** What a superseded change would have applied, kept so that the audit trail shows what was received. */
export type SupersededChange =
  | { kind: 'move'; employee: EmployeeRecord; managerId?: string }
  | { kind: 'terminate' }
  | { kind: 'rehire'; employee: EmployeeRecord; managerId?: string; groups: string[] }
  | { kind: 'groups'; groups: string[] };

/**
 * A change arrived whose effective time is older than data already applied: it is recorded,
 * and nothing about the identity changed. `supersededBy` is the point on HR's timeline
 * that the identity's data already reflects.
 */
export interface IdentityChangeSuperseded extends EventTimes {
  identityId: string;
  change: SupersededChange;
  supersededBy: string;
  source: ChangeSource;
}

export type IdentityEvent =
  | { type: 'IdentityHired'; data: IdentityHired }
  | { type: 'IdentityActivated'; data: IdentityActivated }
  | { type: 'IdentityMoved'; data: IdentityMoved }
  | { type: 'IdentityTerminated'; data: IdentityTerminated }
  | { type: 'IdentityRehired'; data: IdentityRehired }
  | { type: 'IdentityAttributesCorrected'; data: IdentityAttributesCorrected }
  | { type: 'IdentityChangeSuperseded'; data: IdentityChangeSuperseded }
  | { type: 'ManagerLinked'; data: ManagerLinked }
  | { type: 'GroupsAssigned'; data: GroupsAssigned };

export type IdentityEventName = IdentityEvent['type'];

/** One identity event by name: `IdentityEventOf<'IdentityMoved'>`. */
export type IdentityEventOf<Name extends IdentityEventName> = Extract<IdentityEvent, { type: Name }>;

/** Every identity event name, for consumers that subscribe by name (`evt.identity.<EventName>`). */
export const IDENTITY_EVENT_NAMES = [
  'IdentityHired',
  'IdentityActivated',
  'IdentityMoved',
  'IdentityTerminated',
  'IdentityRehired',
  'IdentityAttributesCorrected',
  'IdentityChangeSuperseded',
  'ManagerLinked',
  'GroupsAssigned',
] as const satisfies readonly IdentityEventName[];

// The list above must name every member of the union: this fails to compile when one is missing.
const everyEventNameListed: Exclude<IdentityEventName, (typeof IDENTITY_EVENT_NAMES)[number]> extends never ? true : false = true;
void everyEventNameListed;

/** Events whose payload carries `identity`: the ones that change an identity. */
export function changesIdentity(
  event: IdentityEvent,
): event is Exclude<IdentityEvent, { type: 'IdentityChangeSuperseded' }> {
  return event.type !== 'IdentityChangeSuperseded';
}
