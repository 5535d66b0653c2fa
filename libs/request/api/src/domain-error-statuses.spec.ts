import * as domain from '@custos/request/domain';
import { specifyDomainErrorStatuses } from '@custos/platform/domain/testing';
import { toProblem } from '@custos/platform/http';
import { REQUEST_ERROR_STATUSES } from './domain-error-statuses';

/** Every request domain error reaches HTTP with a status declared here, at the edge. */
describe('request domain errors at the HTTP edge', () => {
  const statusOf = (code: string) => toProblem(Object.assign(new Error(code), { code })).status;

  specifyDomainErrorStatuses(domain, REQUEST_ERROR_STATUSES, statusOf);

  it.each<[number, string[]]>([
    [400, ['validation-failed']],
    [403, ['self-approval', 'not-eligible-approver', 'step-up-required', 'not-requester', 'not-beneficiary', 'not-delegation-party']],
    [404, ['request-not-found', 'break-glass-not-found', 'delegation-not-found']],
    [409, ['request-not-pending', 'already-decided', 'access-not-in-force', 'extension-pending', 'review-completed', 'delegation-overlaps']],
    [422, ['duration-exceeds-maximum', 'sod-violation', 'no-eligible-approvers', 'break-glass-not-allowed']],
  ])('answers %i for %j', (status, codes) => {
    for (const code of codes) expect([code, statusOf(code)]).toEqual([code, status]);
  });

  it('answers a recorded refusal with its 403 problem, naming the approver', () => {
    const refused = domain.refusalOf([
      { type: 'DecisionRefused', data: { requestId: 'req-1', round: 0, step: 0, approverId: 'id-ada', decision: 'approve', reason: 'step-up-required', refusedAt: '2026-03-02T09:00:00.000Z' } },
    ]);
    expect(toProblem(refused)).toMatchObject({ status: 403, type: 'urn:custos:problem:step-up-required', approverId: 'id-ada', subjectId: 'req-1' });
  });

  it('names the conflicting entitlements of an SoD refusal', () => {
    const problem = toProblem(new domain.SodViolation([{ policyKey: 'p', mode: 'prevent', severity: 'high', left: ['a:x'], right: ['b:y'] }]));
    expect(problem).toMatchObject({ status: 422, type: 'urn:custos:problem:sod-violation', entitlements: ['a:x', 'b:y'] });
  });
});
