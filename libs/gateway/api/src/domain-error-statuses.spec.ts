import * as domain from '@custos/gateway/domain';
import { specifyDomainErrorStatuses } from '@custos/platform/domain/testing';
import { toProblem } from '@custos/platform/http';
import { GATEWAY_ERROR_STATUSES } from './domain-error-statuses';

/** Every gateway domain error reaches HTTP with a status declared here, at the edge. */
describe('gateway domain errors at the HTTP edge', () => {
  const statusOf = (code: string) => toProblem(Object.assign(new Error(code), { code })).status;
  specifyDomainErrorStatuses(domain, GATEWAY_ERROR_STATUSES, statusOf);
});
