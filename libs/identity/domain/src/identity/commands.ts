import type { ChangeSource, EmployeeRecord } from '@custos/identity/contracts';

/*
 * Commands carry their times: `now` is the application's clock when the command is handled
 * (it becomes `recordedAt`), `effectiveAt` is HR's effective time. Both RFC 3339 UTC.
 * `managerId` is the manager's identity id, resolved by the application from
 * `managerEmployeeId`; absent while the manager has no identity yet.
 */

/** What a hire and a rehire carry: the full record that an employment starts with. */
export type EmploymentStart = {
  identityId: string;
  employee: EmployeeRecord;
  managerId?: string;
  groups?: string[];
  effectiveAt: string;
  now: string;
  source: ChangeSource;
};

export type HireIdentity = {
  type: 'HireIdentity';
  data: EmploymentStart;
};

/** Sent by the application's scheduler at a pending identity's start date. */
export type ActivateIdentity = {
  type: 'ActivateIdentity';
  data: { identityId: string; now: string };
};

/** A mover: `employee` is the full new record. */
export type MoveIdentity = {
  type: 'MoveIdentity';
  data: {
    identityId: string;
    employee: EmployeeRecord;
    managerId?: string;
    effectiveAt: string;
    now: string;
    source: ChangeSource;
  };
};

export type TerminateIdentity = {
  type: 'TerminateIdentity';
  data: { identityId: string; effectiveAt: string; now: string; source: ChangeSource };
};

/** A returning employee: `employee` is the full new record (its employeeId may differ from the old one). */
export type RehireIdentity = {
  type: 'RehireIdentity';
  data: EmploymentStart;
};

/** The attributes a correction may fix; `null` removes an optional attribute, an absent key leaves it alone. */
export type AttributeCorrections = {
  givenName?: string;
  familyName?: string;
  email?: string;
  employmentType?: EmployeeRecord['employmentType'];
  department?: string | null;
  title?: string | null;
  managerEmployeeId?: string | null;
  managerId?: string | null;
  location?: string | null;
  costCenter?: string | null;
};

/** Fixes data without being a job change. */
export type CorrectIdentityAttributes = {
  type: 'CorrectIdentityAttributes';
  data: {
    identityId: string;
    corrections: AttributeCorrections;
    effectiveAt: string;
    now: string;
    source: ChangeSource;
  };
};

/**
 * Links a report to a manager who got an identity after the report did. With
 * `managerEmployeeId` the link applies only while the report still has that manager,
 * so a link racing a mover cannot attach the old manager.
 */
export type LinkManager = {
  type: 'LinkManager';
  data: { identityId: string; managerId: string; managerEmployeeId?: string; now: string };
};

/** Replaces the identity's group memberships (SCIM groups). */
export type AssignGroups = {
  type: 'AssignGroups';
  data: { identityId: string; groups: string[]; effectiveAt: string; now: string; source: ChangeSource };
};

export type IdentityCommand =
  | HireIdentity
  | ActivateIdentity
  | MoveIdentity
  | TerminateIdentity
  | RehireIdentity
  | CorrectIdentityAttributes
  | LinkManager
  | AssignGroups;
