import type { IdentitySnapshot, IdentityStatus } from './identity-snapshot';

/**
 * A complete identity snapshot whose attributes derive from its id, for specifications of the
 * contexts that consume identity events (the identity view, the entitlement lifecycle).
 */
export function sampleIdentitySnapshot(identityId: string, department: string, status: IdentityStatus = 'active'): IdentitySnapshot {
  return {
    identityId,
    employeeId: `E-${identityId}`,
    givenName: identityId,
    familyName: 'Example',
    email: `${identityId}@example.com`,
    department,
    employmentType: 'employee',
    groups: [],
    status,
  };
}
