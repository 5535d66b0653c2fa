import { authenticateBearer, isLoopback } from './auth.guard';
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
