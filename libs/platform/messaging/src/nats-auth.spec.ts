import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { startNatsServer, type OwnNats } from '@custos/platform/testing';
import { createUser } from '@nats-io/nkeys';
import { describeNatsAuth, readCredentialsFile, type NatsAuth } from './nats-auth';
import { NatsBus } from './nats-bus';

// A server of this file's own: one user with a password, one with an nkey; no one else gets in.
const PASSWORD = 'pw-3f9c1d7e-never-shown';
const user = createUser();
const seed = new TextDecoder().decode(user.getSeed());
let nats: OwnNats;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'custos-nats-auth-'));
  nats = await startNatsServer({
    config: `accounts { A { jetstream: enabled, users: [ { user: svc, password: $SVC_PASSWORD }, { nkey: $SVC_NKEY } ] } }`,
    env: { SVC_PASSWORD: PASSWORD, SVC_NKEY: user.getPublicKey() },
  });
}, 30_000);

afterAll(async () => {
  await nats?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const file = (name: string, content: string) => {
  const path = join(dir, name);
  writeFileSync(path, content, { mode: 0o600 });
  return path;
};
const password = (value: string): NatsAuth => ({ kind: 'user', user: 'svc', password: () => value, passwordFrom: 'NATS_PASSWORD' });
const connectWith = (auth?: NatsAuth) => NatsBus.connect({ servers: nats.url, namespace: '', name: 'nats-auth-spec', auth, inboxPrefix: '_INBOX_nats-auth-spec' });
/** Everything a failure says: message, stack, causes, and how it prints. */
const allSaid = (error: unknown) => `${String(error)} ${(error as Error).stack ?? ''} ${inspect(error, { depth: 5 })}`;

describe('NatsBus credentials', () => {
  it('connects with a user and password, and with an nkey seed file (a trailing newline is fine)', async () => {
    for (const auth of [password(PASSWORD), { kind: 'file', variable: 'NATS_CREDS_FILE', file: file('svc.nk', `${seed}\n`) } as NatsAuth]) {
      const bus = await connectWith(auth);
      expect((await bus.health()).ok).toBe(true);
      await bus.close();
    }
  });

  it('is refused without credentials, with a wrong password or an unknown key, and never says the secret', async () => {
    const stranger = createUser();
    const strangerSeed = new TextDecoder().decode(stranger.getSeed());
    const attempts: Array<[string, NatsAuth | undefined, string | undefined]> = [
      ['none', undefined, undefined],
      ['a wrong password', password('wrong-pw-81b2'), 'wrong-pw-81b2'],
      ['an unknown key', { kind: 'file', variable: 'NATS_CREDS_FILE', file: file('stranger.nk', strangerSeed) }, strangerSeed],
    ];
    for (const [what, auth, secret] of attempts) {
      const error = await connectWith(auth).then(
        async (bus) => (await bus.close(), undefined),
        (e: unknown) => e,
      );
      expect([what, String(error)]).toEqual([what, expect.stringMatching(/Authorization Violation/i)]);
      if (secret) expect([what, allSaid(error).includes(secret)]).toEqual([what, false]);
    }
  });

  it('refuses a credentials file it cannot read or understand, naming the file and not its content', () => {
    expect(() => readCredentialsFile('NATS_CREDS_FILE', join(dir, 'missing.nk'))).toThrow(`NATS_CREDS_FILE: cannot read ${join(dir, 'missing.nk')} (ENOENT)`);
    const garbage = file('garbage.nk', 'not-a-seed-s3cr3t');
    let said = '';
    try {
      readCredentialsFile('NATS_CREDS_FILE', garbage);
    } catch (error) {
      said = allSaid(error);
    }
    expect(said).toContain(`${garbage} holds neither a NATS .creds file nor an nkey user seed`);
    expect(said).not.toContain('s3cr3t');
  });

  it('tells a .creds file (JWT and seed) from a seed file', () => {
    const creds = file('svc.creds', `-----BEGIN NATS USER JWT-----\neyJhbGciOi.fake.jwt\n------END NATS USER JWT------\n\n-----BEGIN USER NKEY SEED-----\n${seed}\n------END USER NKEY SEED------\n`);
    expect(readCredentialsFile('NATS_CREDS_FILE', creds).kind).toBe('creds');
    expect(readCredentialsFile('NATS_CREDS_FILE', file('seed.nk', seed)).kind).toBe('seed');
  });

  it('prints and serialises options without the password', () => {
    const auth = password(PASSWORD);
    expect(JSON.stringify({ auth })).not.toContain(PASSWORD);
    expect(inspect({ auth }, { depth: 5 })).not.toContain(PASSWORD);
    expect(describeNatsAuth(auth)).toBe('user svc (password from NATS_PASSWORD)');
    expect(describeNatsAuth({ kind: 'file', variable: 'NATS_CREDS_FILE', file: '/run/secrets/identity.nk' })).toBe('NATS_CREDS_FILE=/run/secrets/identity.nk');
  });

  it('refuses an inbox prefix that is not one subject token', async () => {
    await expect(NatsBus.connect({ servers: nats.url, inboxPrefix: '_INBOX.>' })).rejects.toThrow(/invalid inbox prefix/);
  });
});
