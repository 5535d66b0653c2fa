import type { ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard, authenticateBearer, isLoopback } from './auth.guard';
import type { Principal } from './principal';
import { DevTokenIssuer } from './token-verifier';
import { toProblem } from '../problem.filter';

describe('bearer authentication', () => {
  let dev: DevTokenIssuer;

  beforeAll(async () => {
    dev = await DevTokenIssuer.create();
  });

  it.each([
    ['127.0.0.1', true],
    ['127.10.0.3', true],
    ['::1', true],
    ['::ffff:127.0.0.1', true],
    ['10.0.0.5', false],
    ['::ffff:10.0.0.5', false],
    ['192.168.1.10', false],
    ['fe80::1', false],
    [undefined, false],
  ])('isLoopback(%s) is %s', (address, expected) => {
    expect(isLoopback(address)).toBe(expected);
  });

  it('accepts a development token from this machine', async () => {
    const token = await dev.issue({ sub: 'admin-1', roles: ['custos:admin'] });
    await expect(authenticateBearer(dev, `Bearer ${token}`, '127.0.0.1')).resolves.toMatchObject({ sub: 'admin-1' });
  });

  it('refuses a development token from another machine with a 401', async () => {
    const token = await dev.issue({ sub: 'admin-1', roles: ['custos:admin'] });
    const refusal = await authenticateBearer(dev, `Bearer ${token}`, '10.0.0.5').catch((error: unknown) => error);
    expect(toProblem(refusal)).toMatchObject({ status: 401, detail: 'development tokens are accepted from this machine only' });
  });
});

describe('AuthGuard and step-up', () => {
  const requestWith = (principal: Principal) => {
    const request: Record<string, unknown> = { headers: { authorization: 'Bearer t' }, socket: { remoteAddress: '127.0.0.1' } };
    const context = { getHandler: () => () => undefined, getClass: () => class {}, switchToHttp: () => ({ getRequest: () => request }) } as unknown as ExecutionContext;
    const guard = new AuthGuard(new Reflector(), { verify: async () => principal }, 900);
    return { request, activate: () => guard.canActivate(context) };
  };

  it('lets mfa count only within the step-up window of the login', async () => {
    const nowSec = Math.floor(Date.now() / 1000);
    const recent = requestWith({ sub: 'ada', roles: [], amr: ['pwd', 'mfa'], issuer: 'x', authTime: nowSec - 60 });
    await recent.activate();
    expect((recent.request['principal'] as Principal).amr).toEqual(['pwd', 'mfa']);
    const stale = requestWith({ sub: 'ada', roles: [], amr: ['pwd', 'mfa'], issuer: 'x', authTime: nowSec - 3600 });
    await stale.activate();
    expect((stale.request['principal'] as Principal).amr).toEqual(['pwd']);
  });
});
