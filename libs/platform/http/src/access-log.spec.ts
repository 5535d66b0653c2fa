import pino from 'pino';
import { Writable } from 'node:stream';
import { LazyRequestLogger } from './access-log';

function capture(level: string) {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level }, stream), lines };
}

describe('LazyRequestLogger (request.log)', () => {
  it('makes no pino child while nothing is written at an enabled level', () => {
    const { logger, lines } = capture('warn');
    const child = jest.spyOn(logger, 'child');
    const log = new LazyRequestLogger(logger, { requestId: 'r-1' }, {});
    log.info({ route: '/check' }, 'request');
    log.debug('detail');
    expect(log.isLevelEnabled('info')).toBe(false);
    expect(log.level).toBe('warn');
    expect(child).not.toHaveBeenCalled();
    expect(lines).toEqual([]);
  });

  it('writes enabled lines through one child that carries the request id', () => {
    const { logger, lines } = capture('info');
    const child = jest.spyOn(logger, 'child');
    const log = new LazyRequestLogger(logger, { requestId: 'r-2' }, {});
    log.info({ status: 200 }, 'request');
    log.warn('slow');
    expect(child).toHaveBeenCalledTimes(1);
    log.child({ part: 'x' }).error('failed');
    expect(lines.map((l) => [l['requestId'], l['msg']])).toEqual([
      ['r-2', 'request'],
      ['r-2', 'slow'],
      ['r-2', 'failed'],
    ]);
    expect(lines[2]['part']).toBe('x');
  });
});
