import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { inspect } from 'node:util';
import { readConfig } from './config';

describe('readConfig', () => {
  it('uses the documented defaults when nothing is set', () => {
    expect(readConfig({})).toEqual({
      port: 3000,
      host: '0.0.0.0',
      dataDir: path.resolve('./data'),
      devAuth: false,
      natsUrl: undefined,
      databaseUrl: undefined,
      eventStoreUrl: undefined,
      oidcIssuer: undefined,
      oidcAudience: undefined,
      namespace: '',
      logLevel: 'info',
      streamReplicas: 1,
      publicUrl: 'http://localhost:3000',
    });
  });

  it('reads every variable it documents', () => {
    expect(
      readConfig({
        PORT: '8080',
        CUSTOS_DATA_DIR: '/var/lib/custos',
        CUSTOS_DEV_AUTH: 'true',
        NATS_URL: 'nats://nats:4222',
        DATABASE_URL: 'postgres://custos@db/custos',
        EVENT_STORE: 'kurrentdb://kurrent:2113?tls=false',
        CUSTOS_OIDC_ISSUER: 'https://idp.example.com',
        CUSTOS_OIDC_AUDIENCE: 'custos',
        CUSTOS_NAMESPACE: 't0a1-B_2',
        LOG_LEVEL: 'debug',
        CUSTOS_STREAM_REPLICAS: '3',
        HOST: '10.0.0.5',
        CUSTOS_PUBLIC_URL: 'https://custos.example.com/',
      }),
    ).toEqual({
      port: 8080,
      host: '10.0.0.5',
      dataDir: '/var/lib/custos',
      devAuth: true,
      natsUrl: 'nats://nats:4222',
      databaseUrl: 'postgres://custos@db/custos',
      eventStoreUrl: 'kurrentdb://kurrent:2113?tls=false',
      oidcIssuer: 'https://idp.example.com',
      oidcAudience: 'custos',
      namespace: 't0a1-B_2',
      logLevel: 'debug',
      streamReplicas: 3,
      publicUrl: 'https://custos.example.com',
    });
  });

  it('turns the development issuer on only for the literal true, and then listens on loopback unless HOST says otherwise', () => {
    for (const value of ['', ' ', 'TRUE', '1', 'yes', 'true ']) expect(readConfig({ CUSTOS_DEV_AUTH: value }).devAuth).toBe(false);
    expect(readConfig({ CUSTOS_DEV_AUTH: 'true' })).toMatchObject({ devAuth: true, host: '127.0.0.1' });
    expect(readConfig({ CUSTOS_DEV_AUTH: 'true', HOST: '0.0.0.0' }).host).toBe('0.0.0.0');
  });

  it('refuses to start the development issuer with NODE_ENV=production', () => {
    expect(() => readConfig({ CUSTOS_DEV_AUTH: 'true', NODE_ENV: 'production', CUSTOS_OIDC_ISSUER: 'https://idp.example.com' })).toThrow(/NODE_ENV=production/);
    expect(readConfig({ NODE_ENV: 'production', CUSTOS_OIDC_ISSUER: 'https://idp.example.com' }).devAuth).toBe(false);
  });

  it('refuses a public URL that is not an absolute http(s) URL', () => {
    for (const value of ['custos.example.com', 'ftp://custos.example.com', 'https://custos.example.com/?a=1']) {
      expect(() => readConfig({ CUSTOS_PUBLIC_URL: value })).toThrow(/CUSTOS_PUBLIC_URL/);
    }
  });

  it('resolves a relative data dir against the working directory', () => {
    expect(readConfig({ CUSTOS_DATA_DIR: 'tmp/custos' }).dataDir).toBe(path.resolve('tmp/custos'));
  });

  it('enables the development issuer only for CUSTOS_DEV_AUTH=true', () => {
    for (const value of ['false', '1', 'yes', 'TRUE', '']) expect(readConfig({ CUSTOS_DEV_AUTH: value }).devAuth).toBe(false);
  });

  it('treats an empty variable as unset (an empty DATABASE_URL does not switch to PostgreSQL, an empty PORT is not port 0)', () => {
    const config = readConfig({ PORT: '', CUSTOS_DATA_DIR: '', NATS_URL: '', DATABASE_URL: '', CUSTOS_OIDC_ISSUER: '', LOG_LEVEL: '', CUSTOS_STREAM_REPLICAS: '' });
    expect(config).toMatchObject({ port: 3000, dataDir: path.resolve('./data'), logLevel: 'info', streamReplicas: 1 });
    expect(config.natsUrl).toBeUndefined();
    expect(config.databaseUrl).toBeUndefined();
    expect(config.oidcIssuer).toBeUndefined();
    expect(readConfig({ PORT: '  ' }).port).toBe(3000);
  });

  it('takes a KurrentDB connection string as EVENT_STORE, and leaves an empty one to PostgreSQL/PGlite', () => {
    for (const url of ['kurrentdb://localhost:2113?tls=false', 'kurrentdb+discover://admin:changeit@cluster.dns:2113', 'esdb://host:2113', 'kdb://host']) {
      expect(readConfig({ EVENT_STORE: url }).eventStoreUrl).toBe(url);
    }
    expect(readConfig({ EVENT_STORE: '' }).eventStoreUrl).toBeUndefined();
    expect(readConfig({ EVENT_STORE: ' ' }).eventStoreUrl).toBeUndefined();
  });

  it.each(['postgres://db/custos', 'kurrentdb', 'kurrentdb://', 'localhost:2113', 'http://host:2113'])('refuses EVENT_STORE=%j with a message naming it', (value) => {
    expect(() => readConfig({ EVENT_STORE: value })).toThrow(/^EVENT_STORE must be a KurrentDB connection string/);
  });

  it('does not repeat a refused EVENT_STORE whole: it may carry a password', () => {
    expect(() => readConfig({ EVENT_STORE: 'postgres://custos:s3cret@db/custos' })).toThrow(/starting "postgres:"/);
    expect(() => readConfig({ EVENT_STORE: 'postgres://custos:s3cret@db/custos' })).not.toThrow(/s3cret/);
  });

  it('accepts every port from 0 (any free port) to 65535', () => {
    expect(readConfig({ PORT: '0' }).port).toBe(0);
    expect(readConfig({ PORT: '65535' }).port).toBe(65535);
  });

  it.each(['abc', '70000', '65536', '-1', '3.5', '0x50', '1e3', '80 80'])('refuses PORT=%j with a message naming PORT', (value) => {
    expect(() => readConfig({ PORT: value })).toThrow(/^PORT must be a port number/);
    expect(() => readConfig({ PORT: value })).toThrow(value);
  });

  it.each(['a.b', 'a b', 'ns*', 'ns>', 'ns/x', 'é'])('refuses CUSTOS_NAMESPACE=%j (it would change which subjects match) with a message naming it', (value) => {
    expect(() => readConfig({ CUSTOS_NAMESPACE: value })).toThrow(/CUSTOS_NAMESPACE/);
  });

  it.each(['0', '6', 'three', '1.5', '-1'])('refuses CUSTOS_STREAM_REPLICAS=%j with a message naming it', (value) => {
    expect(() => readConfig({ CUSTOS_STREAM_REPLICAS: value })).toThrow(/CUSTOS_STREAM_REPLICAS/);
  });

  it('reads process.env when given no environment', () => {
    const saved = process.env.PORT;
    process.env.PORT = '4321';
    try {
      expect(readConfig().port).toBe(4321);
    } finally {
      if (saved === undefined) delete process.env.PORT;
      else process.env.PORT = saved;
    }
  });
});

describe('readConfig: NATS credentials', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'custos-config-nats-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const secretFile = (name: string, content: string) => {
    const file = path.join(dir, name);
    writeFileSync(file, content, { mode: 0o600 });
    return file;
  };
  const thrown = (env: NodeJS.ProcessEnv) => {
    try {
      readConfig(env);
    } catch (error) {
      return `${String(error)} ${inspect(error)}`;
    }
    return 'no error';
  };

  it('has none unless set: an unauthenticated connection', () => {
    expect(readConfig({ NATS_URL: 'nats://nats:4222' }).natsAuth).toBeUndefined();
  });

  it('reads NATS_CREDS_FILE (an nkey seed or .creds file) as a path, resolved, not its content', () => {
    expect(readConfig({ NATS_CREDS_FILE: 'secrets/identity.nk' }).natsAuth).toEqual({ kind: 'file', variable: 'NATS_CREDS_FILE', file: path.resolve('secrets/identity.nk') });
  });

  it('reads NATS_USER with NATS_PASSWORD_FILE (without its trailing newline) or NATS_PASSWORD, and never shows the password', () => {
    const file = secretFile('password', 'file-pw-5d1e\n');
    const fromFile = readConfig({ NATS_USER: 'identity', NATS_PASSWORD_FILE: file });
    expect(fromFile.natsAuth).toMatchObject({ kind: 'user', user: 'identity', passwordFrom: `NATS_PASSWORD_FILE=${file}` });
    expect(fromFile.natsAuth?.kind === 'user' && fromFile.natsAuth.password()).toBe('file-pw-5d1e');
    // a rotated file is read at the next (re)connection
    writeFileSync(file, 'file-pw-rotated');
    expect(fromFile.natsAuth?.kind === 'user' && fromFile.natsAuth.password()).toBe('file-pw-rotated');
    const fromEnv = readConfig({ NATS_USER: 'identity', NATS_PASSWORD: 'env-pw-77aa' });
    expect(fromEnv.natsAuth?.kind === 'user' && fromEnv.natsAuth.password()).toBe('env-pw-77aa');
    for (const config of [fromFile, fromEnv]) {
      expect(JSON.stringify(config)).not.toMatch(/file-pw|env-pw/);
      expect(inspect(config, { depth: 10 })).not.toMatch(/file-pw|env-pw/);
    }
  });

  it('refuses two ways at once, half a way, an unreadable or empty password file, and credentials in NATS_URL, without saying a secret', () => {
    const cases: Array<[NodeJS.ProcessEnv, RegExp]> = [
      [{ NATS_CREDS_FILE: '/x.nk', NATS_USER: 'u', NATS_PASSWORD: 'env-pw-1' }, /two ways to authenticate/],
      [{ NATS_USER: 'u', NATS_PASSWORD: 'env-pw-2', NATS_PASSWORD_FILE: '/x' }, /NATS_PASSWORD_FILE or NATS_PASSWORD, not both/],
      [{ NATS_PASSWORD: 'env-pw-3' }, /need NATS_USER/],
      [{ NATS_USER: 'u' }, /NATS_USER needs NATS_PASSWORD_FILE/],
      [{ NATS_USER: 'u', NATS_PASSWORD_FILE: path.join(dir, 'missing') }, /NATS_PASSWORD_FILE: cannot read .*missing \(ENOENT\)/],
      [{ NATS_USER: 'u', NATS_PASSWORD_FILE: secretFile('empty', '\n') }, /is empty/],
      [{ NATS_URL: 'nats://a:4222,nats://u:url-pw-4@b:4222' }, /NATS_URL must not carry credentials/],
    ];
    for (const [env, message] of cases) {
      const said = thrown(env);
      expect(said).toMatch(message);
      expect(said).not.toMatch(/env-pw|url-pw/);
    }
  });
});
