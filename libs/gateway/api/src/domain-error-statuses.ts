import type * as domain from '@custos/gateway/domain';
import type { DomainErrorCodeOf } from '@custos/platform/domain';
import { registerDomainErrorStatuses } from '@custos/platform/http';

/** The HTTP status of each gateway domain error code, declared at the edge (the domain knows no HTTP). */
export const GATEWAY_ERROR_STATUSES: Readonly<Record<DomainErrorCodeOf<typeof domain>, number>> = {
  'no-access-to-target': 403,
  'step-up-required': 403,
  'not-security-approver': 403,
  'session-not-found': 404,
  'target-not-served': 404,
  'session-already-exists': 409,
  'session-not-live': 409,
  'statements-out-of-order': 409,
  'session-not-here': 409,
};

registerDomainErrorStatuses(GATEWAY_ERROR_STATUSES);
