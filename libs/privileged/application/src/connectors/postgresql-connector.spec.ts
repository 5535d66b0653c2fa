import { randomBytes } from 'node:crypto';
import { startTargetPostgres, type TargetPostgres } from '@custos/privileged/testing';
import { ConnectorError, type TargetAccess } from './connector';
import { PostgresConnector } from './postgresql-connector';
import { scramSha256Verifier } from './scram';

describe('scramSha256Verifier', () => {
  it('derives the RFC 7677 test vector\'s keys (user "user", password "pencil", salt W22ZaJ0SNY7soEsUEjb6gQ==, 4096 iterations)', () => {
    const verifier = scramSha256Verifier('pencil', 4096, Buffer.from('W22ZaJ0SNY7soEsUEjb6gQ==', 'base64'));
    // StoredKey = H(HMAC(SaltedPassword, "Client Key")), ServerKey = HMAC(SaltedPassword, "Server Key"), from the RFC's exchange.
    expect(verifier).toBe('SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=:wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU=');
  });
});

describe('PostgresConnector (a real PostgreSQL that checks passwords)', () => {
  let pg: TargetPostgres;
  let target: TargetAccess;
  const connector = new PostgresConnector({ terminateWaitMs: 5000 });
  const role = `pam_ro_${randomBytes(4).toString('hex')}`;
  const username = () => `custos_${randomBytes(6).toString('hex')}`;

  beforeAll(async () => {
    pg = await startTargetPostgres();
    target = { key: `pg-${randomBytes(3).toString('hex')}`, kind: 'postgresql', host: pg.host, port: pg.port, database: pg.database, adminUsername: pg.adminUsername, adminPassword: pg.adminPassword };
    await pg.admin(async (c) => {
      await c.query(`CREATE ROLE ${role} NOLOGIN`);
      await c.query('CREATE TABLE orders (id int PRIMARY KEY, total numeric)');
      await c.query('INSERT INTO orders VALUES (1, 9.5)');
      await c.query(`GRANT SELECT ON orders TO ${role}`);
    });
  }, 120_000);
  afterAll(async () => {
    await connector.close();
    await pg?.stop();
  }, 60_000);

  it('verifies a target with a working admin credential that may create roles', async () => {
    await expect(connector.verify(target)).resolves.toBeUndefined();
  });

  it('says why it cannot use a target: a wrong password, a closed port, an admin without CREATEROLE; never echoing the password', async () => {
    const wrong = 'not-the-password-' + randomBytes(4).toString('hex');
    const refusal = await connector.verify({ ...target, adminPassword: wrong }).catch((e) => e);
    expect(refusal).toBeInstanceOf(ConnectorError);
    expect(refusal.reason).toMatch(/password authentication failed/);
    expect(refusal.reason).not.toContain(wrong);
    const closed = await connector.verify({ ...target, port: 1 }).catch((e) => e);
    expect(closed.reason).toMatch(/127\.0\.0\.1:1 cannot be reached \(ECONNREFUSED\)/);
    const weak = `pam_weak_${randomBytes(3).toString('hex')}`;
    await pg.admin((c) => c.query(`CREATE ROLE ${weak} LOGIN PASSWORD 'weak-pass-1'`));
    const notAllowed = await connector.verify({ ...target, adminUsername: weak, adminPassword: 'weak-pass-1' }).catch((e) => e);
    expect(notAllowed.reason).toBe(`${weak} may not create roles (it needs CREATEROLE)`);
  });

  it('creates a login role in the target role, valid until the given end, that works with its password only', async () => {
    const user = username();
    const password = randomBytes(24).toString('base64url');
    const validUntil = new Date(Date.now() + 3600_000).toISOString();
    await connector.createAccount(target, { username: user, password, memberOf: role, validUntil });
    const session = await pg.connect(user, password);
    expect((await session.query('SELECT total FROM orders WHERE id = 1')).rows).toEqual([{ total: '9.5' }]);
    await session.end();
    await expect(pg.connect(user, 'wrong-' + password)).rejects.toThrow(/password authentication failed/);
    const { rows } = await pg.admin((c) => c.query(`SELECT rolvaliduntil FROM pg_roles WHERE rolname = $1`, [user]));
    expect(new Date(rows[0].rolvaliduntil).toISOString()).toBe(validUntil);
    expect(await connector.listAccounts(target, 'custos_')).toContain(user);
  });

  it('makes an account again as asked when it exists already (a job run twice): the newer password works', async () => {
    const user = username();
    await connector.createAccount(target, { username: user, password: 'first-password-1', memberOf: role });
    await connector.createAccount(target, { username: user, password: 'second-password-2', memberOf: role });
    await expect(pg.connect(user, 'first-password-1')).rejects.toThrow(/password authentication failed/);
    const session = await pg.connect(user, 'second-password-2');
    await session.end();
  });

  it('extends an account\'s validity', async () => {
    const user = username();
    await connector.createAccount(target, { username: user, password: 'short-lived-1', memberOf: role, validUntil: new Date(Date.now() - 1000).toISOString() });
    await expect(pg.connect(user, 'short-lived-1')).rejects.toThrow(/password authentication failed/);
    await connector.extendAccount(target, user, new Date(Date.now() + 3600_000).toISOString());
    await (await pg.connect(user, 'short-lived-1')).end();
  });

  it('refuses a login past VALID UNTIL', async () => {
    const user = username();
    await connector.createAccount(target, { username: user, password: 'expired-pass-1', memberOf: role, validUntil: new Date(Date.now() - 1000).toISOString() });
    await expect(pg.connect(user, 'expired-pass-1')).rejects.toThrow(/password authentication failed/);
  });

  it('rotates a password: the old one fails, the new one works', async () => {
    const user = username();
    await connector.createAccount(target, { username: user, password: 'before-rotation', memberOf: role });
    await connector.rotatePassword(target, user, 'after-rotation');
    await expect(pg.connect(user, 'before-rotation')).rejects.toThrow(/password authentication failed/);
    await (await pg.connect(user, 'after-rotation')).end();
    await expect(connector.rotatePassword(target, 'custos_nosuchrole', 'x')).rejects.toThrow(/role "custos_nosuchrole" does not exist/);
  });

  it('drops an account and ends the session held open through it: the open connection is closed, a new login fails', async () => {
    const user = username();
    await connector.createAccount(target, { username: user, password: 'open-session-1', memberOf: role });
    const held = await pg.connect(user, 'open-session-1');
    await held.query('SELECT 1');
    const closed = new Promise<void>((resolve) => held.on('end', () => resolve()));
    expect(await connector.dropAccount(target, user)).toEqual({ sessionsTerminated: 1 });
    await expect(held.query('SELECT 1')).rejects.toThrow();
    await closed;
    await expect(pg.connect(user, 'open-session-1')).rejects.toThrow(/password authentication failed|does not exist/);
    expect(await connector.listAccounts(target, 'custos_')).not.toContain(user);
    const { rows } = await pg.admin((c) => c.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [user]));
    expect(rows).toEqual([]);
  });

  it('does all of it as an admin that is no superuser, only CREATEROLE (as a production target\'s custos_admin is)', async () => {
    const adminName = `pam_admin_${randomBytes(3).toString('hex')}`;
    await pg.admin((c) => c.query(`CREATE ROLE ${adminName} LOGIN CREATEROLE PASSWORD 'admin-pass-1'`));
    const limited = { ...target, adminUsername: adminName, adminPassword: 'admin-pass-1' };
    await connector.verify(limited);
    const user = username();
    await connector.createAccount(limited, { username: user, password: 'limited-1', memberOf: role });
    const held = await pg.connect(user, 'limited-1');
    const closed = new Promise<void>((resolve) => held.on('end', () => resolve()));
    await connector.extendAccount(limited, user, new Date(Date.now() + 60_000).toISOString());
    await connector.rotatePassword(limited, user, 'limited-2');
    expect(await connector.listAccounts(limited, 'custos_')).toContain(user);
    expect(await connector.dropAccount(limited, user)).toEqual({ sessionsTerminated: 1 });
    await closed;
    expect((await pg.admin((c) => c.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [user]))).rows).toEqual([]);
  });

  it('drops what is gone already without failing (a job run twice)', async () => {
    await expect(connector.dropAccount(target, 'custos_000000000000')).resolves.toEqual({ sessionsTerminated: 0 });
  });

  it('terminates the sessions of an account that stays', async () => {
    const user = username();
    await connector.createAccount(target, { username: user, password: 'two-sessions-1', memberOf: role });
    const [a, b] = [await pg.connect(user, 'two-sessions-1'), await pg.connect(user, 'two-sessions-1')];
    expect(await connector.terminateSessions(target, user)).toBe(2);
    await expect(a.query('SELECT 1')).rejects.toThrow();
    await expect(b.query('SELECT 1')).rejects.toThrow();
    await (await pg.connect(user, 'two-sessions-1')).end();
  });

  it('lists only the accounts it marked for this target: a custos_ role made by hand, or for another target, is not listed', async () => {
    const mine = username();
    await connector.createAccount(target, { username: mine, password: 'mine-1', memberOf: role });
    const byHand = username();
    await pg.admin((c) => c.query(`CREATE ROLE ${byHand} LOGIN`));
    const other = username();
    await connector.createAccount({ ...target, key: 'another-target' }, { username: other, password: 'other-1', memberOf: role });
    const listed = await connector.listAccounts(target, 'custos_');
    expect(listed).toContain(mine);
    expect(listed).not.toContain(byHand);
    expect(listed).not.toContain(other);
  });

  it('takes a role name as an identifier, never as SQL', async () => {
    const hostile = 'custos_x"; DROP TABLE orders; --';
    await expect(connector.createAccount(target, { username: hostile, password: "it's", memberOf: role })).resolves.toBeUndefined();
    expect((await pg.admin((c) => c.query('SELECT count(*)::int AS n FROM orders'))).rows[0].n).toBe(1);
    await connector.dropAccount(target, hostile);
  });
});
