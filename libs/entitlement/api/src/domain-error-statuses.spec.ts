import * as domain from '@custos/entitlement/domain';
import { specifyDomainErrorStatuses } from '@custos/platform/domain/testing';
import { toProblem } from '@custos/platform/http';
import { ENTITLEMENT_ERROR_STATUSES } from './domain-error-statuses';

/** Every entitlement domain error reaches HTTP with a status declared here, at the edge. */
describe('entitlement domain errors at the HTTP edge', () => {
  const statusOf = (code: string) => toProblem(Object.assign(new Error(code), { code })).status;

  specifyDomainErrorStatuses(domain, ENTITLEMENT_ERROR_STATUSES, statusOf);

  it.each<[number, string[]]>([
    [400, ['validation-failed', 'rule-without-conditions']],
    [403, ['self-grant', 'step-up-required', 'self-approved-exception']],
    [404, ['not-defined', 'not-held']],
    [409, ['already-defined', 'retired', 'held-by-birthright', 'identity-terminated']],
    [422, ['unknown-reference', 'role-cycle', 'sod-violation', 'sod-exception-required', 'duration-exceeds-maximum']],
  ])('answers %i for %j', (status, codes) => {
    for (const code of codes) expect([code, statusOf(code)]).toEqual([code, status]);
  });

  it('puts the error\'s own fields into the problem details', () => {
    const problem = toProblem(new domain.NotHeld('id-ada', { entitlement: 'github:org-admin' }));
    expect(problem).toMatchObject({ status: 404, type: 'urn:custos:problem:not-held', selector: { entitlement: 'github:org-admin' }, identityId: 'id-ada' });
  });
});
