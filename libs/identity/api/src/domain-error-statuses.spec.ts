import * as domain from '@custos/identity/domain';
import { specifyDomainErrorStatuses } from '@custos/platform/domain/testing';
import { toProblem } from '@custos/platform/http';
import { IDENTITY_ERROR_STATUSES } from './domain-error-statuses';

/** Every identity domain error reaches HTTP with a status declared here, at the edge. */
describe('identity domain errors at the HTTP edge', () => {
  const statusOf = (code: string) => toProblem(Object.assign(new Error(code), { code })).status;

  specifyDomainErrorStatuses(domain, IDENTITY_ERROR_STATUSES, statusOf);

  it.each<[number, string[]]>([
    [400, ['invalid-timestamp']],
    [404, ['identity-not-found']],
    [409, ['identity-already-exists', 'invalid-lifecycle-transition', 'activation-before-start-date']],
    [422, ['employee-id-mismatch']],
  ])('answers %i for %j', (status, codes) => {
    for (const code of codes) expect([code, statusOf(code)]).toEqual([code, status]);
  });

  it('puts the error\'s own fields into the problem details', () => {
    const problem = toProblem(new domain.EmployeeIdMismatch('id-ada', 'E1001', 'E2002'));
    expect(problem).toMatchObject({ status: 422, type: 'urn:custos:problem:employee-id-mismatch', identityId: 'id-ada', expected: 'E1001', received: 'E2002' });
  });
});
