/** Lifecycle status of an identity as other contexts see it. */
export type IdentityStatus = 'pending' | 'active' | 'terminated';

export type EmploymentType = 'employee' | 'contractor';

/**
 * An employee's record as the HR system states it. A joiner, mover or rehire carries the
 * full record: an optional attribute that is absent is absent from the identity afterwards.
 */
export interface EmployeeRecord {
  /** The HR system's key for the person (Workday worker id, SCIM employeeNumber). */
  employeeId: string;
  givenName: string;
  familyName: string;
  email: string;
  department?: string;
  title?: string;
  /** The manager, as HR knows them: by employee id. */
  managerEmployeeId?: string;
  location?: string;
  costCenter?: string;
  employmentType: EmploymentType;
}

/**
 * The whole identity after a change. Every identity event that changes an identity carries
 * one, so other contexts (birthright rules match on department, title, location,
 * employmentType, costCenter and groups) never query back.
 */
export interface IdentitySnapshot extends EmployeeRecord {
  identityId: string;
  /** The manager's identity id, once the manager has an identity (see ManagerLinked). */
  managerId?: string;
  /** Group memberships (SCIM groups), sorted and without duplicates. */
  groups: string[];
  status: IdentityStatus;
  /**
   * The system of record: the HR `system` of the change that hired the identity, or rehired
   * it (a rehire begins a new employment), e.g. `workday`, `scim`, `csv`. A snapshot import
   * reconciles only the identities of its own system. Absent on snapshots of events recorded
   * before it was kept; folding the stream fills it in from the hire's `source.system`.
   */
  systemOfRecord?: string;
}

/** A snapshot attribute that a mover, rehire or correction can change, as named in `changes`. */
export type IdentityField =
  | 'employeeId'
  | 'givenName'
  | 'familyName'
  | 'email'
  | 'department'
  | 'title'
  | 'managerEmployeeId'
  | 'managerId'
  | 'location'
  | 'costCenter'
  | 'employmentType';

/** The attributes of an employee record, in the order HR exports (`custos hr import`) list them. */
export const EMPLOYEE_FIELDS = [
  'employeeId',
  'givenName',
  'familyName',
  'email',
  'department',
  'title',
  'managerEmployeeId',
  'location',
  'costCenter',
  'employmentType',
] as const satisfies ReadonlyArray<keyof EmployeeRecord>;

/** The employee record's attributes, and the manager's identity id beside the manager's employee id. */
export const IDENTITY_FIELDS: readonly IdentityField[] = EMPLOYEE_FIELDS.flatMap((field): IdentityField[] => (field === 'managerEmployeeId' ? [field, 'managerId'] : [field]));

/** One changed attribute; `null` means the attribute was (or became) absent. */
export interface FieldChange {
  field: IdentityField;
  from: string | null;
  to: string | null;
}

/** Where an HR change came from; `eventId` is unique per `system` (the application dedupes on it). */
export interface ChangeSource {
  system: string;
  eventId?: string;
  channel: 'webhook' | 'scim' | 'nats' | 'csv' | 'api';
}
