import type * as domain from '@custos/privileged/domain';
import type { DomainErrorCodeOf } from '@custos/platform/domain';
import { registerDomainErrorStatuses } from '@custos/platform/http';

/**
 * The HTTP status of each privileged domain error code, declared here at the context's edge.
 * A check-out without an active grant is 403; a second exclusive check-out 409; a target the
 * connector could not use 422 with its reason; a credential shown once already 410.
 */
export const PRIVILEGED_ERROR_STATUSES: Readonly<Record<DomainErrorCodeOf<typeof domain>, number>> = {
  'validation-failed': 400,
  'no-active-grant': 403,
  'not-jit-beneficiary': 403,
  'target-not-found': 404,
  'vault-account-not-found': 404,
  'jit-account-not-found': 404,
  'target-already-registered': 409,
  'vault-account-already-registered': 409,
  'already-checked-out': 409,
  'rotation-pending': 409,
  'not-checked-out': 409,
  'credential-not-ready': 409,
  'credential-gone': 410,
  'target-unreachable': 422,
  'unknown-target': 422,
};

registerDomainErrorStatuses(PRIVILEGED_ERROR_STATUSES);
