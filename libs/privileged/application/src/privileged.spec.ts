import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { CHECK_RPC, type CheckRequest, type CheckResult } from '@custos/entitlement/contracts';
import { vaultAccountStreamId } from '@custos/privileged/contracts';
import { SqlEventStore, type CustosEvent, type SqlDatabase } from '@custos/platform/event-store';
import { InProcessBus } from '@custos/platform/messaging';
import { createLogger, migrateContext, readConfig, type ContextRuntime } from '@custos/platform/runtime';
import { eventually, usePostgres } from '@custos/platform/testing';
import { AlreadyCheckedOut, CredentialGone, NoActiveGrant, NotJitBeneficiary, TargetUnreachable, UnknownTarget } from '@custos/privileged/domain';
import type { Connector } from './connectors/connector';
import { PostgresConnector } from './connectors/postgresql-connector';
import { jitUsername, RECONCILE_JIT_ACCOUNTS } from './jit-accounts';
import { createPrivilegedContext, type PrivilegedContext } from './privileged-context';
import { startTargetPostgres, type TargetPostgres } from '@custos/privileged/testing';
import { FileKeyEncryptionKey } from './vault/file-kek';

const NOW = '2026-03-02T09:00:00.000Z';
const ADMIN = { actor: 'admin-1' };
let sequence = 0;

/** An entitlement-context event as the bus delivers it. */
function delivered(name: string, subject: string, data: object): CustosEvent {
  sequence += 1;
  return {
    specversion: '1.0',
    id: `evt-${randomBytes(4).toString('hex')}-${sequence}`,
    source: '/custos/entitlement',
    type: `custos.entitlement.${name}.v1`,
    subject,
    time: NOW,
    datacontenttype: 'application/json',
    data,
    streamversion: 1,
    globalposition: String(sequence),
    correlationid: 'c',
    causationid: 'c',
    actor: 'test',
    name,
  };
}

describe('the privileged context (store on PostgreSQL, a PostgreSQL target that checks passwords)', () => {
  const pg = usePostgres('privileged_app');
  let target: TargetPostgres;
  let role: string;
  const kekKey = randomBytes(32);
  const kek = new FileKeyEncryptionKey([{ id: 'k1', key: kekKey }]);
  const opened: Array<{ db?: SqlDatabase; connector: Connector; context?: PrivilegedContext; bus?: InProcessBus }> = [];
  let now: Date;
  /** Who holds a grant of what, as rpc.entitlement.check answers. */
  let grants: Map<string, { grantId: string; expiresAt?: string }>;

  beforeAll(async () => {
    target = await startTargetPostgres();
    role = `pam_ro_${randomBytes(3).toString('hex')}`;
    await target.admin(async (c) => {
      await c.query(`CREATE ROLE ${role} NOLOGIN`);
      await c.query('CREATE TABLE orders (id int PRIMARY KEY)');
      await c.query(`GRANT SELECT ON orders TO ${role}`);
    });
  }, 120_000);
  afterAll(async () => {
    // What each test opened, stopped before the pools close: a view left polling keeps Jest from exiting.
    for (const { db, connector, context, bus } of opened) {
      await context?.view.stop();
      await context?.work.idle();
      await bus?.close();
      await connector.close();
      await db?.close();
    }
    await target?.stop();
  }, 60_000);

  /** The context on its own schema; `db` another pool on the same database stands for another process. */
  async function open(options: { schema?: string; db?: SqlDatabase; connector?: Connector; kick?: boolean } = {}): Promise<{ context: PrivilegedContext; runtime: ContextRuntime; schema: string; failures: string[] }> {
    now ??= new Date(NOW);
    grants ??= new Map();
    const schema = options.schema ?? pg.schema;
    const db = options.db ?? pg.db;
    const store = await SqlEventStore.open(db, { context: 'privileged', schema });
    const bus = new InProcessBus();
    await bus.serve(CHECK_RPC, async (payload) => {
      const { identityId, entitlement } = payload as CheckRequest;
      const grant = grants.get(`${identityId}/${entitlement}`);
      const answer: CheckResult = grant ? { allowed: true, reason: 'granted', grantIds: [grant.grantId], ...(grant.expiresAt && { expiresAt: grant.expiresAt }) } : { allowed: false, reason: 'not-granted', grantIds: [] };
      return answer;
    });
    const runtime: ContextRuntime = { context: 'privileged', db, store, bus, clock: () => now, logger: createLogger(readConfig({}), 'test'), publicUrl: 'http://localhost:3000' };
    const connector = options.connector ?? new PostgresConnector();
    const failures: string[] = [];
    const context = createPrivilegedContext(runtime, { kek, schema, connectors: { postgresql: connector }, onRotationFailed: (key) => failures.push(key), kickJobs: options.kick ?? false });
    opened.push({ connector, context, bus, ...(options.db && { db: options.db }) });
    await migrateContext(db, schema, [(x) => context.inbox.migrate(x), (x) => context.vault.migrate(x), (x) => context.links.migrate(x), (x) => context.view.migrate(x), (x) => context.scheduler.migrate(x)]);
    context.scheduler.use(context.workers.handlers());
    context.view.start((error) => {
      throw error;
    });
    return { context, runtime, schema, failures };
  }

  beforeEach(() => {
    now = new Date(NOW);
    grants = new Map();
  });
  afterEach(async () => {
    // Views of every test stop with it.
  });

  /** Runs every due job and waits for the target calls they started, until nothing is due. */
  async function step(context: PrivilegedContext): Promise<void> {
    for (;;) {
      const ran = await context.scheduler.runDue();
      await context.work.idle();
      if (ran === 0) return;
    }
  }

  const registerTarget = (context: PrivilegedContext, key: string, password = target.adminPassword) =>
    context.targets.register({ key, kind: 'postgresql', host: target.host, port: target.port, database: target.database, adminCredential: { username: target.adminUsername, password } }, ADMIN);

  async function everything(schema: string): Promise<string> {
    const { rows } = await pg.db.query<{ dump: string }>(
      `SELECT string_agg(row_to_json(e)::text, ' ') AS dump FROM ${schema}.events e`,
    );
    return rows[0].dump ?? '';
  }

  describe('targets', () => {
    it('registers a target its connector reached; the admin password is sealed in the vault, nowhere in the events or the answer', async () => {
      const { context, schema } = await open();
      const answer = await registerTarget(context, 'pg-a');
      expect(answer).toEqual({ key: 'pg-a', kind: 'postgresql', host: target.host, port: target.port, database: target.database, adminUsername: 'postgres', registeredAt: NOW });
      expect(JSON.stringify(answer)).not.toContain(target.adminPassword);
      expect(await everything(schema)).not.toContain(target.adminPassword);
      expect((await context.targets.access('pg-a')).access.adminPassword).toBe(target.adminPassword);
      await context.view.stop();
    });

    it('refuses a target it cannot reach or log in to, with the connector\'s reason and never the password; nothing is stored', async () => {
      const { context, schema } = await open();
      const wrong = `wrong-${randomBytes(6).toString('hex')}`;
      const refused = await registerTarget(context, 'pg-b', wrong).catch((e) => e);
      expect(refused).toBeInstanceOf(TargetUnreachable);
      expect(refused.reason).toMatch(/password authentication failed/);
      expect(JSON.stringify({ ...refused, message: refused.message })).not.toContain(wrong);
      const down = await context.targets
        .register({ key: 'pg-c', kind: 'postgresql', host: '127.0.0.1', port: 1, database: 'x', adminCredential: { username: 'postgres', password: wrong } }, ADMIN)
        .catch((e) => e);
      expect(down.reason).toMatch(/cannot be reached \(ECONNREFUSED\)/);
      expect(await everything(schema)).toBe('');
      const { rows } = await pg.db.query(`SELECT count(*)::int AS n FROM ${schema}.vault_secrets`);
      expect(rows[0]).toEqual({ n: 0 });
      await context.view.stop();
    });
  });

  describe('the key-encryption key', () => {
    it('is rotated at start: every data key is re-wrapped to the key now first in the key file, after which the old key can go', async () => {
      const { context, schema } = await open();
      await registerTarget(context, 'pg-kek');
      await context.view.stop();
      const fresh = { id: 'k2', key: randomBytes(32) };
      const store = await SqlEventStore.open(pg.db, { context: 'privileged', schema });
      const runtime: ContextRuntime = { context: 'privileged', db: pg.db, store, bus: new InProcessBus(), clock: () => now, logger: createLogger(readConfig({}), 'test'), publicUrl: '' };
      const connector = new PostgresConnector();
      opened.push({ connector });
      const rotated = createPrivilegedContext(runtime, { kek: new FileKeyEncryptionKey([fresh, { id: 'k1', key: kekKey }]), schema, connectors: { postgresql: connector }, reconcileEveryMs: 3600_000 });
      await rotated.workers.start();
      await rotated.workers.stop();
      const { rows } = await pg.db.query<{ kek_id: string }>(`SELECT DISTINCT kek_id FROM ${schema}.vault_secrets`);
      expect(rows).toEqual([{ kek_id: 'k2' }]);
      const onlyNew = createPrivilegedContext(runtime, { kek: new FileKeyEncryptionKey([fresh]), schema, connectors: { postgresql: connector } });
      expect((await onlyNew.targets.access('pg-kek')).access.adminPassword).toBe(target.adminPassword);
    });
  });

  describe('vault accounts', () => {
    async function onboarded(context: PrivilegedContext, key: string) {
      const username = `dba_${randomBytes(3).toString('hex')}`;
      await target.admin((c) => c.query(`CREATE ROLE ${username} LOGIN PASSWORD 'known-to-someone'`));
      await registerTarget(context, `${key}-target`);
      const registered = await context.vaultAccounts.register({ key, target: `${key}-target`, username, entitlement: `${key}:use`, rotateEvery: 'P30D' }, ADMIN);
      expect(registered.status).toBe('rotating');
      await step(context);
      return { username };
    }

    it('says on a check-out which request the grant behind it was made on (who and why), and none for a grant without one', async () => {
      const { context, runtime } = await open();
      await onboarded(context, 'acct-q');
      // The entitlement context's grant of the account's entitlement, made on request r-cy.
      await context.jit.onEntitlementEvent(
        delivered('AccessGranted', 'access-id-cy', { grantId: 'g-cy', identityId: 'id-cy', entitlement: 'acct-q:use', source: 'request', requestId: 'r-cy', grantedAt: NOW, reason: 'INC-9' }),
      );
      grants.set('id-cy/acct-q:use', { grantId: 'g-cy' });
      await context.vaultAccounts.checkOut('acct-q', 'id-cy', { reason: 'INC-9' }, { actor: 'id-cy' });
      await context.vaultAccounts.checkIn('acct-q', 'id-cy', { actor: 'id-cy' });
      await step(context);
      // An administrator's grant: no request behind it.
      grants.set('id-dee/acct-q:use', { grantId: 'g-dee' });
      await context.vaultAccounts.checkOut('acct-q', 'id-dee', {}, { actor: 'id-dee' });
      const outs = (await runtime.store.readStream(vaultAccountStreamId('acct-q'))).filter((e) => e.name === 'VaultAccountCheckedOut').map((e) => e.data);
      expect(outs).toEqual([
        expect.objectContaining({ identityId: 'id-cy', grantId: 'g-cy', requestId: 'r-cy', reason: 'INC-9' }),
        expect.not.objectContaining({ requestId: expect.anything() }),
      ]);
    });

    it('onboards an account by rotating it: the password known before fails, and only a grant holder checks it out, exclusively', async () => {
      const { context } = await open();
      const { username } = await onboarded(context, 'acct-a');
      expect(await context.vaultAccounts.get('acct-a')).toMatchObject({ status: 'available', version: 1, lastRotatedAt: NOW });
      await expect(target.connect(username, 'known-to-someone')).rejects.toThrow(/password authentication failed/);

      await expect(context.vaultAccounts.checkOut('acct-a', 'id-ada', {}, { actor: 'id-ada' })).rejects.toBeInstanceOf(NoActiveGrant);
      grants.set('id-ada/acct-a:use', { grantId: 'g-ada', expiresAt: '2026-03-02T09:30:00.000Z' });
      const out = await context.vaultAccounts.checkOut('acct-a', 'id-ada', { reason: 'INC-1' }, { actor: 'id-ada' });
      expect(out).toMatchObject({ key: 'acct-a', username, expiresAt: '2026-03-02T09:30:00.000Z' });
      await (await target.connect(username, out.password)).end();

      grants.set('id-bob/acct-a:use', { grantId: 'g-bob' });
      await expect(context.vaultAccounts.checkOut('acct-a', 'id-bob', {}, { actor: 'id-bob' })).rejects.toBeInstanceOf(AlreadyCheckedOut);

      // Check-in rotates: the password Ada saw never works again.
      await context.vaultAccounts.checkIn('acct-a', 'id-ada', { actor: 'id-ada' });
      expect((await context.vaultAccounts.get('acct-a')).status).toBe('rotating');
      await step(context);
      await expect(target.connect(username, out.password)).rejects.toThrow(/password authentication failed/);
      const bob = await context.vaultAccounts.checkOut('acct-a', 'id-bob', {}, { actor: 'id-bob' });
      expect(bob.password).not.toBe(out.password);
      await (await target.connect(username, bob.password)).end();
      await context.view.stop();
    });

    it('rotates when a lease runs out and when its grant ends', async () => {
      const { context } = await open();
      const { username } = await onboarded(context, 'acct-b');
      grants.set('id-ada/acct-b:use', { grantId: 'g-ada-b' });
      const first = await context.vaultAccounts.checkOut('acct-b', 'id-ada', { duration: 'PT15M' }, { actor: 'id-ada' });
      now = new Date('2026-03-02T09:15:00.000Z');
      await step(context);
      expect(await context.vaultAccounts.get('acct-b')).toMatchObject({ status: 'available', version: 2 });
      await expect(target.connect(username, first.password)).rejects.toThrow(/password authentication failed/);

      const second = await context.vaultAccounts.checkOut('acct-b', 'id-ada', {}, { actor: 'id-ada' });
      await context.jit.onEntitlementEvent(
        delivered('AccessRevoked', 'access-id-ada', { grantId: 'g-ada-b', identityId: 'id-ada', entitlement: 'acct-b:use', source: 'request', reason: 'request-revoked', revokedAt: NOW }),
      );
      expect((await context.vaultAccounts.get('acct-b')).lease).toBeUndefined();
      await step(context);
      await expect(target.connect(username, second.password)).rejects.toThrow(/password authentication failed/);
      await context.view.stop();
    });

    it('refuses an account on an unregistered target', async () => {
      const { context } = await open();
      await expect(context.vaultAccounts.register({ key: 'acct-x', target: 'nowhere', username: 'u', entitlement: 'e' }, ADMIN)).rejects.toBeInstanceOf(UnknownTarget);
      await context.view.stop();
    });

    it('records a rotation that fails (the account is missing on the target), counts it, retries with backoff, and succeeds once it can', async () => {
      const { context, failures } = await open();
      const { username } = await onboarded(context, 'acct-c');
      await target.admin((c) => c.query(`DROP ROLE ${username}`));
      await context.vaultAccounts.rotate('acct-c', ADMIN);
      await step(context);
      const failed = await context.vaultAccounts.get('acct-c');
      expect(failed).toMatchObject({ status: 'rotating', version: 1, pendingRotation: { reason: 'on-demand', attempts: 1 }, lastFailure: { error: expect.stringMatching(/does not exist/), retryAt: '2026-03-02T09:00:01.000Z' } });
      expect(failures).toEqual(['acct-c']);
      await target.admin((c) => c.query(`CREATE ROLE ${username} LOGIN`));
      now = new Date('2026-03-02T09:00:02.000Z');
      await step(context);
      expect(await context.vaultAccounts.get('acct-c')).toMatchObject({ status: 'available', version: 2, lastRotatedAt: '2026-03-02T09:00:02.000Z' });
      grants.set('id-ada/acct-c:use', { grantId: 'g' });
      const out = await context.vaultAccounts.checkOut('acct-c', 'id-ada', {}, { actor: 'id-ada' });
      await (await target.connect(username, out.password)).end();
      await context.view.stop();
    });

    it('rotates on schedule, rotateEvery after the last rotation', async () => {
      const { context } = await open();
      await onboarded(context, 'acct-d');
      expect((await context.scheduler.pending('rotation-due:acct-d'))[0].dueAt.toISOString()).toBe('2026-04-01T09:00:00.000Z');
      now = new Date('2026-04-01T09:00:00.000Z');
      await step(context);
      await step(context);
      expect(await context.vaultAccounts.get('acct-d')).toMatchObject({ status: 'available', version: 2, lastRotatedAt: '2026-04-01T09:00:00.000Z' });
      expect((await context.scheduler.pending('rotation-due:acct-d'))[0].dueAt.toISOString()).toBe('2026-05-01T09:00:00.000Z');
      await context.view.stop();
    });

    it('reconciles a crash between the steps of a rotation: after the target changed but before the commit, the restarted process applies the pending password again and commits it', async () => {
      const first = await open();
      const { username } = await onboarded(first.context, 'acct-e');
      const schema = first.schema;

      // Another process runs the rotation and is killed (SIGKILL) right after the target took the new password, before the commit.
      await first.context.vaultAccounts.rotate('acct-e', ADMIN);
      const child = spawnSync(process.execPath, ['-r', '@swc-node/register', join(__dirname, 'testing', 'rotation-crash-child.ts')], {
        cwd: join(__dirname, '../../../..'),
        env: { ...process.env, CHILD_DATABASE_URL: pg.url, CHILD_SCHEMA: schema, CHILD_KEK: kekKey.toString('base64'), CHILD_NOW: now.toISOString() },
        encoding: 'utf8',
        timeout: 120_000,
      });
      expect(child.signal).toBe('SIGKILL');
      expect(child.stdout).toContain('target-changed');

      // The vault still calls the rotation pending; the target already has the new password.
      const two = await open({ schema });
      await first.context.view.stop();
      expect(await two.context.vaultAccounts.get('acct-e')).toMatchObject({ status: 'rotating', version: 1 });
      // The dead process had claimed the job for 30 s: it comes back once that lapses.
      await step(two.context);
      expect(await two.context.vaultAccounts.get('acct-e')).toMatchObject({ status: 'rotating', version: 1 });
      now = new Date(now.getTime() + 31_000);
      await step(two.context);
      expect(await two.context.vaultAccounts.get('acct-e')).toMatchObject({ status: 'available', version: 2 });
      grants.set('id-ada/acct-e:use', { grantId: 'g' });
      const out = await two.context.vaultAccounts.checkOut('acct-e', 'id-ada', {}, { actor: 'id-ada' });
      await (await target.connect(username, out.password)).end();
      await two.context.view.stop();
    });

    it('reconciles a crash before the target was reached: the job found after the restart sets and commits the pending password', async () => {
      const first = await open();
      const { username } = await onboarded(first.context, 'acct-f');
      await first.context.vaultAccounts.rotate('acct-f', ADMIN);
      await first.context.view.stop();
      const restarted = await open({ schema: first.schema });
      await step(restarted.context);
      expect(await restarted.context.vaultAccounts.get('acct-f')).toMatchObject({ status: 'available', version: 2 });
      grants.set('id-ada/acct-f:use', { grantId: 'g' });
      const out = await restarted.context.vaultAccounts.checkOut('acct-f', 'id-ada', {}, { actor: 'id-ada' });
      await (await target.connect(username, out.password)).end();
      await restarted.context.view.stop();
    });
  });

  describe('just-in-time accounts', () => {
    const defined = (key: string, extra: object = {}) =>
      delivered('EntitlementDefined', `entitlement-${key}`, {
        key,
        application: 'db',
        name: key,
        privileged: true,
        risk: 'high',
        breakGlass: false,
        approvalPolicy: { steps: [] },
        definedAt: NOW,
        definedBy: 'admin',
        ...extra,
      });
    // The target's clock is the real one: VALID UNTIL must lie ahead of it.
    const grantEnd = new Date(Date.now() + 4 * 3600_000).toISOString();
    const granted = (grantId: string, entitlement: string, identityId = 'id-ada') =>
      delivered('AccessGranted', `access-${identityId}`, { grantId, identityId, entitlement, source: 'request', requestId: `r-${grantId}`, grantedAt: NOW, expiresAt: grantEnd, reason: 'INC-7' });
    const revoked = (grantId: string, entitlement: string, reason = 'request-revoked', identityId = 'id-ada') =>
      delivered('AccessRevoked', `access-${identityId}`, { grantId, identityId, entitlement, source: 'request', reason, revokedAt: NOW });

    it('makes an account when a grant of a target-linked entitlement starts, delivers it once to the beneficiary, and ends it (sessions closed) when the grant ends', async () => {
      const { context, schema } = await open();
      await registerTarget(context, 'pg-jit');
      await context.jit.onEntitlementEvent(defined('pg-jit:ro', { target: 'pg-jit', targetRole: role }));
      await context.jit.onEntitlementEvent(defined('plain'));
      const start = granted('grant-1', 'pg-jit:ro');
      await context.jit.onEntitlementEvent(start);
      await context.jit.onEntitlementEvent(start);
      await context.jit.onEntitlementEvent(granted('grant-0', 'plain'));
      expect((await context.jit.state('grant-0')).kind).toBe('NoJitAccount');
      await expect(context.jit.deliver('id-ada', 'grant-1', { actor: 'id-ada' })).rejects.toThrow(/being created/);
      await step(context);

      await expect(context.jit.deliver('id-mallory', 'grant-1', { actor: 'id-mallory' })).rejects.toBeInstanceOf(NotJitBeneficiary);
      const credential = await context.jit.deliver('id-ada', 'grant-1', { actor: 'id-ada' });
      expect(credential).toMatchObject({ grantId: 'grant-1', username: jitUsername('pg-jit', 'grant-1'), host: target.host, port: target.port, database: target.database, expiresAt: grantEnd });
      await expect(context.jit.deliver('id-ada', 'grant-1', { actor: 'id-ada' })).rejects.toBeInstanceOf(CredentialGone);
      expect(await everything(schema)).not.toContain(credential.password);

      const session = await target.connect(credential.username, credential.password);
      await session.query('SELECT count(*) FROM orders');
      await context.jit.onEntitlementEvent(revoked('grant-1', 'pg-jit:ro'));
      await step(context);
      await expect(session.query('SELECT 1')).rejects.toThrow();
      await expect(target.connect(credential.username, credential.password)).rejects.toThrow(/password authentication failed/);
      expect(await context.jit.state('grant-1')).toMatchObject({ kind: 'DroppedJitAccount', reason: 'request-revoked' });
      await context.view.stop();
    });

    it('makes and drops the account as soon as the grant\'s start and end commit, without waiting for the scheduler\'s poll', async () => {
      const { context } = await open({ kick: true });
      await registerTarget(context, 'pg-kick');
      await context.jit.onEntitlementEvent(defined('pg-kick:ro', { target: 'pg-kick', targetRole: role }));
      await context.jit.onEntitlementEvent(granted('grant-k', 'pg-kick:ro'));
      // The scheduler is not polling here (its handlers are set, it is not started): only the kick runs the job.
      const credential = await eventually(() => context.jit.deliver('id-ada', 'grant-k', { actor: 'id-ada' }).catch(() => undefined), { accept: (c) => c !== undefined, what: 'the account', timeoutMs: 10_000, intervalMs: 20 });
      const session = await target.connect(credential!.username, credential!.password);
      const closed = new Promise<void>((resolve) => session.on('end', () => resolve()));
      await context.jit.onEntitlementEvent(revoked('grant-k', 'pg-kick:ro'));
      await closed;
      await context.workers.stop();
    });

    it('follows an extension of the grant: the role stays valid until the new end', async () => {
      const { context } = await open();
      await registerTarget(context, 'pg-ext');
      await context.jit.onEntitlementEvent(defined('pg-ext:ro', { target: 'pg-ext', targetRole: role }));
      // A grant whose end has just passed on the target's clock: the role is made, but refuses logins.
      const lapsed = new Date(Date.now() - 60_000).toISOString();
      await context.jit.onEntitlementEvent(
        delivered('AccessGranted', 'access-id-ada', { grantId: 'grant-x', identityId: 'id-ada', entitlement: 'pg-ext:ro', source: 'request', requestId: 'r-x', grantedAt: NOW, expiresAt: lapsed, reason: 'x' }),
      );
      await step(context);
      const credential = await context.jit.deliver('id-ada', 'grant-x', { actor: 'id-ada' });
      await expect(target.connect(credential.username, credential.password)).rejects.toThrow(/password authentication failed/);
      const later = new Date(Date.now() + 3600_000).toISOString();
      const extension = delivered('AccessExtended', 'access-id-ada', { grantId: 'grant-x', identityId: 'id-ada', entitlement: 'pg-ext:ro', requestId: 'r-x', round: 1, previousExpiresAt: lapsed, expiresAt: later, reason: 'more', extendedBy: 'id-mia', extendedAt: NOW });
      await context.jit.onEntitlementEvent(extension);
      await step(context);
      await (await target.connect(credential.username, credential.password)).end();
      expect(await context.jit.state('grant-x')).toMatchObject({ kind: 'ActiveJitAccount', account: { expiresAt: later } });
      await context.view.stop();
    });

    it('ends an account whose grant ended before the account was made, without ever making it', async () => {
      const { context } = await open();
      await registerTarget(context, 'pg-jit2');
      await context.jit.onEntitlementEvent(defined('pg-jit2:ro', { target: 'pg-jit2', targetRole: role }));
      await context.jit.onEntitlementEvent(granted('grant-2', 'pg-jit2:ro'));
      await context.jit.onEntitlementEvent(revoked('grant-2', 'pg-jit2:ro', 'leaver'));
      await step(context);
      expect(await context.jit.state('grant-2')).toMatchObject({ kind: 'DroppedJitAccount', reason: 'leaver' });
      const { rows } = await target.admin((c) => c.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [jitUsername('pg-jit2', 'grant-2')]));
      expect(rows).toEqual([]);
      await context.view.stop();
    });

    it('drops a role whose grant ended while the role was being made', async () => {
      const real = new PostgresConnector();
      const racer: { context?: PrivilegedContext } = {};
      // The grant is revoked, and its drop runs, while the connector is making the role.
      const racing: Connector = Object.assign(Object.create(real) as Connector, {
        createAccount: async (access: Parameters<Connector['createAccount']>[0], account: Parameters<Connector['createAccount']>[1]) => {
          const context = racer.context!;
          await context.jit.onEntitlementEvent(revoked('grant-r', 'pg-race:ro'));
          await context.scheduler.runDue();
          // (Not step(): it would wait for this very call.) The drop finds no role yet and records it dropped.
          await eventually(() => context.jit.state('grant-r'), { accept: (s) => s.kind === 'DroppedJitAccount', what: 'the drop', timeoutMs: 10_000, intervalMs: 10 });
          await real.createAccount(access, account);
        },
      });
      const { context } = await open({ connector: racing });
      racer.context = context;
      opened.push({ connector: real });
      await registerTarget(context, 'pg-race');
      await context.jit.onEntitlementEvent(defined('pg-race:ro', { target: 'pg-race', targetRole: role }));
      await context.jit.onEntitlementEvent(granted('grant-r', 'pg-race:ro'));
      await step(context);
      expect(await context.jit.state('grant-r')).toMatchObject({ kind: 'DroppedJitAccount' });
      const { rows } = await target.admin((c) => c.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [jitUsername('pg-race', 'grant-r')]));
      expect(rows).toEqual([]);
      await context.view.stop();
    });

    it('reconciles a target: a role marked as Custos\'s that no live grant explains is dropped and recorded; live accounts and unmarked roles stay', async () => {
      const { context } = await open();
      await registerTarget(context, 'pg-rec');
      await context.jit.onEntitlementEvent(defined('pg-rec:ro', { target: 'pg-rec', targetRole: role }));
      await context.jit.onEntitlementEvent(granted('grant-3', 'pg-rec:ro'));
      await step(context);
      const stray = `custos_${randomBytes(6).toString('hex')}`;
      const unmarked = `custos_${randomBytes(6).toString('hex')}`;
      await target.admin(async (c) => {
        await c.query(`CREATE ROLE ${stray} LOGIN PASSWORD 'by-hand'`);
        await c.query(`COMMENT ON ROLE ${stray} IS 'custos:jit:pg-rec'`);
        await c.query(`CREATE ROLE ${unmarked} LOGIN`);
      });
      const held = await target.connect(stray, 'by-hand');
      expect(await context.jit.reconcile()).toEqual([{ target: 'pg-rec', username: stray, sessionsTerminated: 1 }]);
      await expect(held.query('SELECT 1')).rejects.toThrow();
      const { rows } = await target.admin((c) => c.query('SELECT rolname FROM pg_roles WHERE rolname = ANY($1) ORDER BY rolname', [[stray, unmarked, jitUsername('pg-rec', 'grant-3')]]));
      expect(rows.map((r) => r.rolname).sort()).toEqual([unmarked, jitUsername('pg-rec', 'grant-3')].sort());
      // The same from the periodic job, which books its next run.
      const later = `custos_${randomBytes(6).toString('hex')}`;
      await target.admin(async (c) => {
        await c.query(`CREATE ROLE ${later} LOGIN`);
        await c.query(`COMMENT ON ROLE ${later} IS 'custos:jit:pg-rec'`);
      });
      await context.scheduler.schedule(pg.db, { key: 'jit-reconcile', kind: RECONCILE_JIT_ACCOUNTS, dueAt: now, payload: {} });
      await step(context);
      expect((await target.admin((c) => c.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [later]))).rows).toEqual([]);
      expect((await context.scheduler.pending('jit-reconcile'))[0].dueAt.getTime()).toBe(now.getTime() + 5 * 60_000);
      await target.admin((c) => c.query(`DROP ROLE ${unmarked}`));
      await context.view.stop();
    });
  });
});
