import { NotFoundException } from '@nestjs/common';
import { SCIM, ScimError } from '@custos/identity/application';
import { EmployeeIdMismatch, IdentityNotFound } from '@custos/identity/domain';
import { WrongExpectedVersionError } from '@custos/platform/event-store';
import { problem, ProblemException } from '@custos/platform/http';
import { scimErrorOf } from './scim-exception.filter';

/** Every error on the SCIM routes becomes a SCIM error body (RFC 7644 section 3.12) with `status` as a string. */
describe('SCIM errors', () => {
  it.each([
    ['a SCIM refusal keeps its status and scimType', ScimError.invalidFilter('bad filter'), { status: '400', scimType: 'invalidFilter', detail: 'bad filter' }],
    ['a refused token', new ProblemException(problem(401, 'unauthenticated', 'a bearer token is required')), { status: '401', detail: 'a bearer token is required' }],
    ['a missing role', new ProblemException(problem(403, 'forbidden', 'requires one of the roles: custos:hr')), { status: '403', detail: 'requires one of the roles: custos:hr' }],
    ['an unknown identity', new IdentityNotFound('x'), { status: '404', detail: 'identity x does not exist' }],
    ['a changed employee id', new EmployeeIdMismatch('x', 'E1', 'E2'), { status: '400', scimType: 'mutability' }],
    ['a concurrent write', new WrongExpectedVersionError('identity-x', 1, 2), { status: '409' }],
    ['an unknown route', new NotFoundException('Cannot GET /scim/v2/Nope'), { status: '404', detail: 'Cannot GET /scim/v2/Nope' }],
    ['an unexpected error, without leaking it', new Error('connection string postgres://secret'), { status: '500', detail: 'an unexpected error occurred' }],
  ])('%s', (_description, error, expected: Record<string, string>) => {
    expect(scimErrorOf(error)).toEqual({ schemas: [SCIM.error], detail: expect.any(String), ...expected });
  });
});
