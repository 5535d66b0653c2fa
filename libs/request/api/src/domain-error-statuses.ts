import type * as domain from '@custos/request/domain';
import type { DomainErrorCodeOf } from '@custos/platform/domain';
import { registerDomainErrorStatuses } from '@custos/platform/http';

/**
 * The HTTP status of each request domain error code, declared here at the context's edge (the
 * domain knows no HTTP). Every code has one: the type misses none, and the spec checks that each
 * error class's code is registered with the problem-details edge. Codes the entitlement context
 * shares (validation-failed, step-up-required, sod-violation, duration-exceeds-maximum) answer
 * the same status there.
 */
export const REQUEST_ERROR_STATUSES: Readonly<Record<DomainErrorCodeOf<typeof domain>, number>> = {
  'validation-failed': 400,
  'self-approval': 403,
  'not-eligible-approver': 403,
  'step-up-required': 403,
  'not-requester': 403,
  'not-beneficiary': 403,
  'not-delegation-party': 403,
  'request-not-found': 404,
  'break-glass-not-found': 404,
  'delegation-not-found': 404,
  'request-already-exists': 409,
  'request-not-pending': 409,
  'request-not-approved': 409,
  'access-not-in-force': 409,
  'access-without-end': 409,
  'extension-pending': 409,
  'already-decided': 409,
  'break-glass-already-used': 409,
  'review-completed': 409,
  'delegation-overlaps': 409,
  'duration-exceeds-maximum': 422,
  'sod-violation': 422,
  'no-eligible-approvers': 422,
  'break-glass-not-allowed': 422,
};

registerDomainErrorStatuses(REQUEST_ERROR_STATUSES);
