import { ConfiguredUpstreams } from './configured-upstreams';
import { UnknownTarget } from './ports';

describe('targets given by URL', () => {
  it('resolves a target to its address and credential', async () => {
    const upstreams = ConfiguredUpstreams.fromEnv(JSON.stringify({ 'pg-prod': 'postgres://custos%40ops:s%3Acret@db.internal:6432/app?sslmode=require' }));
    expect(await upstreams.knows('pg-prod')).toBe(true);
    expect(await upstreams.resolve({ target: 'pg-prod' })).toEqual({ host: 'db.internal', port: 6432, database: 'app', user: 'custos@ops', password: 's:cret', ssl: { rejectUnauthorized: false } });
    await expect(upstreams.resolve({ target: 'nope' })).rejects.toBeInstanceOf(UnknownTarget);
    expect(await upstreams.knows('__proto__')).toBe(false);
  });

  it('refuses a bad setting without repeating a password', () => {
    expect(() => ConfiguredUpstreams.fromEnv('[1]')).toThrow(/JSON object/);
    expect(() => ConfiguredUpstreams.fromEnv('{"a": "mysql://u:hunter2@h/d"}')).toThrow(/not a postgres/);
    let message = '';
    try {
      ConfiguredUpstreams.fromEnv('{"a": "postgres://u:hunter2@h/d?sslmode=bogus"}');
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/target a: sslmode/);
    expect(message).not.toContain('hunter2');
  });
});
