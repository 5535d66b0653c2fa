import type * as domain from '@custos/entitlement/domain';
import type { DomainErrorCodeOf } from '@custos/platform/domain';
import { registerDomainErrorStatuses } from '@custos/platform/http';

/**
 * The HTTP status of each entitlement domain error code, declared here at the context's edge (the
 * domain knows no HTTP). Every code has one: the type misses none, and the spec checks that each
 * error class's code is registered with the problem-details edge.
 */
export const ENTITLEMENT_ERROR_STATUSES: Readonly<Record<DomainErrorCodeOf<typeof domain>, number>> = {
  'validation-failed': 400,
  'rule-without-conditions': 400,
  'self-grant': 403,
  'step-up-required': 403,
  'self-approved-exception': 403,
  'not-defined': 404,
  'not-held': 404,
  'already-defined': 409,
  retired: 409,
  'held-by-birthright': 409,
  'identity-terminated': 409,
  'unknown-reference': 422,
  'role-cycle': 422,
  'sod-violation': 422,
  'sod-exception-required': 422,
  'duration-exceeds-maximum': 422,
};

registerDomainErrorStatuses(ENTITLEMENT_ERROR_STATUSES);
