import * as domain from '@custos/privileged/domain';
import { specifyDomainErrorStatuses } from '@custos/platform/domain/testing';
import { toProblem } from '@custos/platform/http';
import { PRIVILEGED_ERROR_STATUSES } from './domain-error-statuses';

/** Every privileged domain error reaches HTTP with a status declared here, at the edge. */
describe('privileged domain errors at the HTTP edge', () => {
  const statusOf = (code: string) => toProblem(Object.assign(new Error(code), { code })).status;

  specifyDomainErrorStatuses(domain, PRIVILEGED_ERROR_STATUSES, statusOf);

  it('answers a target the connector could not use with 422 and its reason', () => {
    expect(toProblem(new domain.TargetUnreachable('pg-prod', 'connection refused'))).toMatchObject({ status: 422, type: 'urn:custos:problem:target-unreachable', target: 'pg-prod', reason: 'connection refused' });
  });

  it('answers a check-out without a grant 403 and a second one 409', () => {
    expect(toProblem(new domain.NoActiveGrant('a', 'id-ada', 'e')).status).toBe(403);
    expect(toProblem(new domain.AlreadyCheckedOut('a', '2026-03-02T10:00:00.000Z')).status).toBe(409);
  });
});
