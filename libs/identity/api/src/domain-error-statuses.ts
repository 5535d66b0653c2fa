import type * as domain from '@custos/identity/domain';
import type { DomainErrorCodeOf } from '@custos/platform/domain';
import { registerDomainErrorStatuses } from '@custos/platform/http';

/**
 * The HTTP status of each identity domain error code, declared here at the context's edge (the
 * domain knows no HTTP). Every code has one: the type misses none, and the spec checks that each
 * error class's code is registered with the problem-details edge.
 */
export const IDENTITY_ERROR_STATUSES: Readonly<Record<DomainErrorCodeOf<typeof domain>, number>> = {
  'identity-not-found': 404,
  'identity-already-exists': 409,
  'invalid-lifecycle-transition': 409,
  'activation-before-start-date': 409,
  'employee-id-mismatch': 422,
  'invalid-timestamp': 400,
};

registerDomainErrorStatuses(IDENTITY_ERROR_STATUSES);
