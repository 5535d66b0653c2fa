import type { DomainEvent } from '@custos/platform/domain';
import type { ChangeSource, EmployeeRecord, FieldChange, IdentitySnapshot } from './identity-snapshot';

/** The context name used in CloudEvents `source` (`/custos/identity`) and `type` (`custos.identity.<EventName>.v1`). */
export const IDENTITY_CONTEXT = 'identity';

/*
 * Each event is named as a whole, `type` and `data` (DomainEvent): `IdentityHired` is the event,
 * `IdentityHired['data']` its payload, as stored (event name and JSON data) and published.
 */

/**
 * Times on identity events: `effectiveAt` is when the change takes effect in HR's terms,
 * `recordedAt` is when Custos recorded it (the command's `now`). Both RFC 3339 UTC.
 */
export interface EventTimes {
  effectiveAt: string;
  recordedAt: string;
}

/** A person joined. `identity.status` is `pending` when the start (`effectiveAt`) was still ahead, else `active`. */
export type IdentityHired = DomainEvent<
  'IdentityHired',
  EventTimes & {
    identityId: string;
    identity: IdentitySnapshot;
    source: ChangeSource;
  }
>;

/** A pending identity reached its start date. `effectiveAt` is the start date. */
export type IdentityActivated = DomainEvent<
  'IdentityActivated',
  EventTimes & {
    identityId: string;
    identity: IdentitySnapshot;
  }
>;

/** HR changed the record (a job change). `changes` names each changed attribute. */
export type IdentityMoved = DomainEvent<
  'IdentityMoved',
  EventTimes & {
    identityId: string;
    changes: FieldChange[];
    identity: IdentitySnapshot;
    source: ChangeSource;
  }
>;

/** A person left. A backdated leaver (`effectiveAt` in the past) is still a leaver. */
export type IdentityTerminated = DomainEvent<
  'IdentityTerminated',
  EventTimes & {
    identityId: string;
    identity: IdentitySnapshot;
    source: ChangeSource;
  }
>;

/**
 * A terminated person came back. `identity.status` is `pending` when the rehire date was
 * still ahead, else `active`. `changes` compares the new record with the one at termination;
 * groups start empty unless the rehire assigned some.
 */
export type IdentityRehired = DomainEvent<
  'IdentityRehired',
  EventTimes & {
    identityId: string;
    changes: FieldChange[];
    identity: IdentitySnapshot;
    source: ChangeSource;
  }
>;

/** Data was fixed (a misspelt name, a wrong email): not a job change. */
export type IdentityAttributesCorrected = DomainEvent<
  'IdentityAttributesCorrected',
  EventTimes & {
    identityId: string;
    changes: FieldChange[];
    identity: IdentitySnapshot;
    source: ChangeSource;
  }
>;

/** A report's manager now has an identity (`identity.managerId` is set). */
export type ManagerLinked = DomainEvent<
  'ManagerLinked',
  EventTimes & {
    identityId: string;
    managerId: string;
    managerEmployeeId?: string;
    identity: IdentitySnapshot;
  }
>;

/** Group memberships were replaced (SCIM groups); birthright rules can match them. */
export type GroupsAssigned = DomainEvent<
  'GroupsAssigned',
  EventTimes & {
    identityId: string;
    groups: string[];
    added: string[];
    removed: string[];
    identity: IdentitySnapshot;
    source: ChangeSource;
  }
>;

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
export type IdentityChangeSuperseded = DomainEvent<
  'IdentityChangeSuperseded',
  EventTimes & {
    identityId: string;
    change: SupersededChange;
    supersededBy: string;
    source: ChangeSource;
  }
>;

export type IdentityEvent =
  | IdentityHired
  | IdentityActivated
  | IdentityMoved
  | IdentityTerminated
  | IdentityRehired
  | IdentityAttributesCorrected
  | IdentityChangeSuperseded
  | ManagerLinked
  | GroupsAssigned;

export type IdentityEventName = IdentityEvent['type'];

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
