import {
  IDENTITY_FIELDS,
  type EmployeeRecord,
  type FieldChange,
  type IdentitySnapshot,
  type IdentityStatus,
} from '@custos/identity/contracts';

/** identitySnapshot builds a snapshot from a full HR record, leaving out absent optional attributes. */
export function identitySnapshot(
  identityId: string,
  employee: EmployeeRecord,
  managerId: string | undefined,
  groups: string[],
  status: IdentityStatus,
  systemOfRecord: string | undefined,
): IdentitySnapshot {
  const snapshot: IdentitySnapshot = {
    identityId,
    employeeId: employee.employeeId,
    givenName: employee.givenName,
    familyName: employee.familyName,
    email: employee.email,
    department: employee.department,
    title: employee.title,
    managerEmployeeId: employee.managerEmployeeId,
    managerId,
    location: employee.location,
    costCenter: employee.costCenter,
    employmentType: employee.employmentType,
    groups: normalizeGroups(groups),
    status,
    systemOfRecord,
  };
  return withoutAbsent(snapshot);
}

/**
 * withSystemOfRecord upcasts a snapshot recorded before snapshots named their system of record:
 * one that names it is kept as it is; otherwise it gets `system` (the hire's or rehire's
 * `source.system`, or the one the state already knows), so old streams still fold to an
 * identity that knows its system.
 */
export function withSystemOfRecord(identity: IdentitySnapshot, system: string | undefined): IdentitySnapshot {
  if (identity.systemOfRecord !== undefined || system === undefined) return identity;
  return { ...identity, systemOfRecord: system };
}

/** withoutAbsent drops keys whose value is undefined, so that a snapshot survives a JSON round trip unchanged. */
export function withoutAbsent<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

/** fieldChanges lists every attribute that differs between two snapshots, in a fixed order. */
export function fieldChanges(before: IdentitySnapshot, after: IdentitySnapshot): FieldChange[] {
  const changes: FieldChange[] = [];
  for (const field of IDENTITY_FIELDS) {
    const from = before[field] ?? null;
    const to = after[field] ?? null;
    if (from !== to) changes.push({ field, from, to });
  }
  return changes;
}

/** normalizeGroups makes group lists comparable: trimmed, without blanks or duplicates, sorted. */
export function normalizeGroups(groups: readonly string[]): string[] {
  return [...new Set(groups.map((group) => group.trim()).filter((group) => group.length > 0))].sort();
}
