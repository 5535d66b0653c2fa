import { BadRequestException, NotFoundException } from '@nestjs/common';
import { WrongExpectedVersionError } from '@custos/platform/event-store';
import { RpcError } from '@custos/platform/messaging';
import { notFound, unprocessable } from './problem';
import { registerDomainErrorStatuses, toProblem } from './problem.filter';

class SomeDomainError extends Error {
  readonly code = 'unknown-reference';
  readonly httpStatus = 422;
  constructor(readonly keys: string[]) {
    super(`unknown keys: ${keys.join(', ')}`);
  }
}

class RegisteredError extends Error {
  readonly code = 'identity-not-found';
  constructor(readonly identityId: string) {
    super(`identity ${identityId} does not exist`);
  }
}

describe('problem details', () => {
  it.each([
    ['a problem exception as it is', notFound('no such thing'), { status: 404, type: 'urn:custos:problem:not-found', detail: 'no such thing' }],
    ['a domain error with its status, code and data', new SomeDomainError(['a', 'b']), { status: 422, type: 'urn:custos:problem:unknown-reference', keys: ['a', 'b'] }],
    ['a concurrency conflict as 409 with the actual version', new WrongExpectedVersionError('s', 1, 3), { status: 409, actualVersion: 3 }],
    ['an upstream RPC error with its status', new RpcError('rpc.x', 503, 'no responders'), { status: 503, detail: 'no responders' }],
    ['a framework 404', new NotFoundException('Cannot GET /x'), { status: 404, detail: 'Cannot GET /x' }],
    ['a framework 400', new BadRequestException('bad'), { status: 400 }],
    ['a 422 built by unprocessable()', unprocessable('sod-violation', 'conflict', { conflicts: [1] }), { status: 422, conflicts: [1] }],
  ])('renders %s', (_, error, expected) => {
    expect(toProblem(error)).toMatchObject(expected);
  });

  it('maps a domain error by its registered code when it carries no status', () => {
    registerDomainErrorStatuses({ 'identity-not-found': 404 });
    expect(toProblem(new RegisteredError('i1'))).toMatchObject({ status: 404, type: 'urn:custos:problem:identity-not-found', identityId: 'i1' });
  });

  it('never lets a domain error\'s own fields replace the status, type, title or detail (a rehire of an active identity carried status: "active")', () => {
    class RehireRefused extends Error {
      readonly code = 'not-terminated';
      readonly httpStatus = 409;
      readonly status = 'active';
      readonly type = 'urn:evil';
      readonly title = 'Nope';
    }
    expect(toProblem(new RehireRefused('the identity is active'))).toMatchObject({ status: 409, type: 'urn:custos:problem:not-terminated', title: 'Conflict', detail: 'the identity is active' });
  });

  it('hides the details of an unexpected error behind a 500', () => {
    const problem = toProblem(new Error('connection string postgres://secret@db'));
    expect(problem).toEqual({ type: 'urn:custos:problem:internal', title: 'Internal Server Error', status: 500, detail: 'an unexpected error occurred' });
  });
});
