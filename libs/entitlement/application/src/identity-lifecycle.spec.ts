import { accessStreamId } from '@custos/entitlement/contracts';
import { accessDecider, type AccessCommand, type ApplyBirthright, type BirthrightReason, ValidationFailed } from '@custos/entitlement/domain';
import { sampleIdentitySnapshot, type IdentitySnapshot } from '@custos/identity/contracts';
import { CustosEvent, SqlDatabase, SqlEventStore } from '@custos/platform/event-store';
import { InProcessBus } from '@custos/platform/messaging';
import { ContextRuntime, createLogger, DurableScheduler, Inbox, migrateContext, readConfig } from '@custos/platform/runtime';
import { usePostgres } from '@custos/platform/testing';
import { AccessService, adminGrantCommandId, EXPIRE_GRANT } from './access-service';
import { CatalogService } from './catalog-service';
import { CatalogView } from './read-models/catalog/catalog-view';
import { IdentityLifecycle } from './identity-lifecycle';
import { IdentityProfile, IdentityProfiles } from './read-models/identity-profiles/identity-profiles';

const NOW = '2026-03-02T09:00:00.000Z';
const IDENTITIES = ['ada', 'bob', 'cy', 'dee', 'eve'];

const snapshot = sampleIdentitySnapshot;

/** An identity event as the bus delivers it; the lifecycle reads its id, name and data. */
const identityEvent = (id: string, name: string, data: { identityId: string; identity?: IdentitySnapshot }): CustosEvent => ({
  specversion: '1.0',
  id,
  source: '/custos/identity',
  type: `custos.identity.${name}.v1`,
  subject: `identity-${data.identityId}`,
  time: NOW,
  datacontenttype: 'application/json',
  data,
  streamversion: 1,
  globalposition: '1',
  correlationid: id,
  causationid: id,
  actor: 'hr:workday',
  name,
});
const change = (id: string, name: string, identity: IdentitySnapshot) => identityEvent(id, name, { identityId: identity.identityId, identity });

/** Access service whose birthright for one identity names a blank entitlement, so the decider refuses it mid-batch. */
class FailingAccess extends AccessService {
  failFor?: string;

  override birthrightCommand(profile: IdentityProfile, reason: BirthrightReason, commandId: string): ApplyBirthright {
    const command = super.birthrightCommand(profile, reason, commandId);
    if (profile.identityId !== this.failFor) return command;
    return { ...command, data: { ...command.data, desired: [{ entitlement: ' ', role: 'broken', ruleKey: 'broken' }] } };
  }
}

/** The database with a count of the statements sent inside its transactions (BEGIN and COMMIT aside). */
function countingStatements(db: SqlDatabase): { db: SqlDatabase; statements: () => number } {
  let statements = 0;
  const counted: SqlDatabase = {
    dialect: db.dialect,
    query: (text, params, options) => db.query(text, params, options),
    close: () => db.close(),
    transaction: (work) =>
      db.transaction((tx) =>
        work({
          query: (text, params, options) => {
            statements += 1;
            return tx.query(text, params, options);
          },
          afterCommit: tx.afterCommit?.bind(tx),
        }),
      ),
  };
  return { db: counted, statements: () => statements };
}

/** The entitlement context around an IdentityLifecycle, in its own schema, with Engineering and Sales birthright. */
async function openContext(pool: SqlDatabase, schema: string) {
  const { db, statements } = countingStatements(pool);
  const store = await SqlEventStore.open(db, { context: 'entitlement', schema });
  const runtime: ContextRuntime = { context: 'entitlement', db, store, bus: new InProcessBus(), clock: () => new Date(NOW), logger: createLogger(readConfig({}), 'test'), publicUrl: 'http://localhost:3000' };
  const inbox = new Inbox(db, schema);
  const profiles = new IdentityProfiles(db, schema);
  const scheduler = new DurableScheduler(db, schema, runtime.clock);
  await migrateContext(db, schema, [(x) => inbox.migrate(x), (x) => profiles.migrate(x), (x) => scheduler.migrate(x)]);
  const catalog = new CatalogView(store, (error) => {
    throw error;
  });
  await catalog.start();
  const catalogService = new CatalogService(runtime, catalog);
  const admin = { actor: 'admin-1' };
  for (const [department, entitlement] of [
    ['Engineering', 'repo:read'],
    ['Sales', 'crm:read'],
  ]) {
    await catalogService.defineEntitlement({ key: entitlement, application: entitlement.split(':')[0], name: entitlement, privileged: false, risk: 'low' }, admin);
    await catalogService.defineRole({ key: `${department}-base`, name: department, entitlements: [entitlement], roles: [] }, admin);
    await catalogService.defineBirthrightRule({ key: department, name: department, when: { department }, roles: [`${department}-base`] }, admin);
  }
  const access = new FailingAccess(runtime, catalog, profiles, scheduler);
  const lifecycle = new IdentityLifecycle(runtime, inbox, profiles, access, catalog);

  return {
    db,
    lifecycle,
    access,
    scheduler,
    statements,
    /** Each identity's access events (ids and times aside), profile, and the entitlements it holds now. */
    async state() {
      const result: Record<string, unknown> = {};
      for (const identityId of IDENTITIES) {
        const events = (await store.readStream(accessStreamId(identityId))).map((e) => ({
          name: e.name,
          data: e.data,
          streamversion: e.streamversion,
          actor: e.actor,
          correlationid: e.correlationid,
          causationid: e.causationid,
        }));
        const folded = events.map((e) => ({ type: e.name, data: e.data }) as Parameters<typeof accessDecider.evolve>[1]).reduce(accessDecider.evolve, accessDecider.initialState());
        result[identityId] = { events, profile: await profiles.get(identityId), status: folded.kind === 'TerminatedAccess' ? 'terminated' : 'active', holds: folded.grants.map((g) => g.entitlement).sort() };
      }
      return result;
    },
    async claimed(): Promise<number> {
      const { rows } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${schema}.inbox`);
      return rows[0].n;
    },
    async close() {
      await catalog.stop();
      await store.close();
      await runtime.bus.close();
    },
  };
}

/** IdentityLifecycle over a real PostgreSQL: identity events in, access streams and profiles out. */
describe('IdentityLifecycle', () => {
  const pg = usePostgres('lifecycle');
  const contexts: Array<{ close(): Promise<void> }> = [];
  const open = async (suffix: string) => {
    const context = await openContext(pg.db, `${pg.schema}_${suffix}`);
    contexts.push(context);
    return context;
  };

  afterEach(async () => {
    await Promise.all(contexts.splice(0).map((c) => c.close()));
  });

  it('handles a batch to the same access as one event at a time: in order, each once, superseded changes skipped', async () => {
    const deeHired = change('e0', 'IdentityHired', snapshot('dee', 'Sales'));
    const adaHired = change('e1', 'IdentityHired', snapshot('ada', 'Engineering'));
    const batch = [
      deeHired, // handled before the batch: redelivered
      adaHired,
      change('e2', 'IdentityHired', snapshot('bob', 'Engineering')),
      // Ada's move sees the grant of her hire, made earlier in the same transaction.
      change('e3', 'IdentityMoved', snapshot('ada', 'Sales')),
      identityEvent('e4', 'IdentityChangeSuperseded', { identityId: 'bob' }),
      change('e5', 'IdentityTerminated', snapshot('bob', 'Engineering', 'terminated')),
      adaHired, // redelivered within the batch
      change('e6', 'IdentityHired', snapshot('cy', 'Engineering', 'pending')),
      change('e7', 'IdentityActivated', snapshot('cy', 'Engineering')),
    ];
    const [oneByOne, batched] = await Promise.all([open('one'), open('batch')]);
    for (const context of [oneByOne, batched]) await context.lifecycle.handle(deeHired);

    for (const event of batch) await oneByOne.lifecycle.handle(event);
    await batched.lifecycle.handleBatch(batch);

    const state = await batched.state();
    expect(state).toEqual(await oneByOne.state());
    expect(state).toMatchObject({
      ada: { status: 'active', holds: ['crm:read'], profile: { department: 'Sales', status: 'active' } },
      bob: { status: 'terminated', holds: [], profile: { status: 'terminated' } },
      cy: { status: 'active', holds: ['repo:read'], profile: { status: 'active' } },
      dee: { status: 'active', holds: ['crm:read'] },
    });
    // Ada: granted once for the hire; then the move's grant and revocation.
    expect((state.ada as { events: unknown[] }).events).toHaveLength(3);
    // The superseded change is never claimed; every other event once.
    expect(await batched.claimed()).toBe(7);

    // The whole batch redelivered changes nothing.
    await batched.lifecycle.handleBatch(batch);
    expect(await batched.state()).toEqual(state);
  });

  it('applies a batch all or nothing: a failing event leaves no claim, profile or grant of the others', async () => {
    const context = await open('fail');
    const adaHired = change('e1', 'IdentityHired', snapshot('ada', 'Engineering'));
    const bobHired = change('e2', 'IdentityHired', snapshot('bob', 'Sales'));
    context.access.failFor = 'bob';
    await expect(context.lifecycle.handleBatch([adaHired, bobHired])).rejects.toThrow(ValidationFailed);
    expect(await context.claimed()).toBe(0);
    expect(await context.state()).toMatchObject({ ada: { events: [], profile: null }, bob: { events: [], profile: null } });

    // As the bus does next: one event at a time, so only the failing one is retried.
    await context.lifecycle.handle(adaHired);
    await expect(context.lifecycle.handle(bobHired)).rejects.toThrow(ValidationFailed);
    expect(await context.state()).toMatchObject({ ada: { holds: ['repo:read'] }, bob: { events: [], profile: null } });
  });
  it('handles joiners, movers, leavers and rehires in one batch to the same streams, metadata and expiry jobs as one event at a time', async () => {
    const before = [
      change('p1', 'IdentityHired', snapshot('bob', 'Engineering')),
      change('p2', 'IdentityHired', snapshot('dee', 'Sales')),
      change('p3', 'IdentityHired', snapshot('eve', 'Sales')),
      change('p4', 'IdentityTerminated', snapshot('eve', 'Sales', 'terminated')),
    ];
    const batch = [
      change('e1', 'IdentityHired', snapshot('ada', 'Engineering')),
      // A leaver with a time-bound admin grant: its expiry job goes with it.
      change('e2', 'IdentityTerminated', snapshot('bob', 'Engineering', 'terminated')),
      change('e3', 'IdentityHired', snapshot('cy', 'Engineering')),
      // Dee's move loses the Sales birthright and flags the admin grant she keeps for review.
      change('e4', 'IdentityMoved', snapshot('dee', 'Engineering')),
      // Cy's move, in the same batch as his hire, revokes the grant that hire made.
      change('e5', 'IdentityMoved', snapshot('cy', 'Sales')),
      change('e6', 'IdentityRehired', snapshot('eve', 'Engineering')),
      // Ada hired, gone and back, all in one batch.
      change('e7', 'IdentityTerminated', snapshot('ada', 'Engineering', 'terminated')),
      change('e8', 'IdentityRehired', snapshot('ada', 'Sales')),
    ];
    const [oneByOne, batched] = await Promise.all([open('mix_one'), open('mix_batch')]);
    const deeGrantId = `${adminGrantCommandId('admin-1', 'dee', 'k2')}:repo:read`;
    for (const context of [oneByOne, batched]) {
      for (const event of before) await context.lifecycle.handle(event);
      await context.access.adminGrant({ identityId: 'bob', entitlement: 'crm:read', reason: 'cover', duration: 'P7D', idempotencyKey: 'k1', amr: ['pwd'] }, { actor: 'admin-1', correlationId: 'setup' });
      await context.access.adminGrant({ identityId: 'dee', entitlement: 'repo:read', reason: 'project', duration: 'P30D', idempotencyKey: 'k2', amr: ['pwd'] }, { actor: 'admin-1', correlationId: 'setup' });
      expect((await context.scheduler.pending('expire:')).map((j) => j.key)).toEqual(
        [`expire:${adminGrantCommandId('admin-1', 'bob', 'k1')}:crm:read`, `expire:${adminGrantCommandId('admin-1', 'dee', 'k2')}:repo:read`],
      );
    }

    for (const event of batch) await oneByOne.lifecycle.handle(event);
    await batched.lifecycle.handleBatch(batch);

    const state = await batched.state();
    expect(state).toEqual(await oneByOne.state());
    expect(await batched.scheduler.pending()).toEqual(await oneByOne.scheduler.pending());
    expect(state).toMatchObject({
      ada: { status: 'active', holds: ['crm:read'] },
      bob: { status: 'terminated', holds: [] },
      cy: { status: 'active', holds: ['crm:read'] },
      dee: { status: 'active', holds: ['repo:read', 'repo:read'] },
      eve: { status: 'active', holds: ['repo:read'] },
    });
    const events = (identityId: string) => (state[identityId] as { events: Array<{ name: string; causationid: string; actor: string }> }).events;
    expect(events('ada').map((e) => [e.name, e.causationid])).toEqual([
      ['AccessGranted', 'e1'],
      ['AccessTerminated', 'e7'],
      ['AccessRevoked', 'e7'],
      ['AccessReinstated', 'e8'],
      ['AccessGranted', 'e8'],
    ]);
    expect(events('dee').map((e) => e.name).slice(-3)).toEqual(['AccessGranted', 'AccessRevoked', 'MoverReviewFlagged']);
    expect(events('cy').every((e) => e.actor === 'system:identity-lifecycle')).toBe(true);
    // Bob's time-bound grant was revoked with him: only Dee's expiry is left.
    expect(await batched.scheduler.pending()).toEqual([
      { key: `expire:${deeGrantId}`, kind: EXPIRE_GRANT, dueAt: new Date('2026-04-01T09:00:00.000Z'), payload: { identityId: 'dee', grantId: deeGrantId, correlationId: 'setup' } },
    ]);
  });

  it('spends the same few statements on a batch of 4 identities as on one of 48', async () => {
    const context = await open('count');
    const batchOf = (n: number, prefix: string) => {
      const ids = Array.from({ length: n }, (_, i) => `${prefix}${i}`);
      return [
        ...ids.map((id) => change(`${id}-hired`, 'IdentityHired', snapshot(id, 'Engineering'))),
        ...ids.slice(0, n / 2).map((id) => change(`${id}-moved`, 'IdentityMoved', snapshot(id, 'Sales'))),
        ...ids.slice(n / 2).map((id) => change(`${id}-left`, 'IdentityTerminated', snapshot(id, 'Engineering', 'terminated'))),
      ];
    };
    const statementsOf = async (events: CustosEvent[]) => {
      const start = context.statements();
      await context.lifecycle.handleBatch(events);
      return context.statements() - start;
    };

    // Claim, profiles, one read of every access stream, one append, one cancel of expiry jobs.
    expect(await statementsOf(batchOf(4, 'small'))).toBe(5);
    expect(await statementsOf(batchOf(48, 'large'))).toBe(5);
  });
  it('runs access commands together to the same streams and expiry jobs as execute on each in turn, time-bound grants scheduled and revoked ones cancelled', async () => {
    const grant = (identityId: string, entitlement: string, commandId: string, expiresAt?: string): AccessCommand => ({
      type: 'GrantAccess',
      data: { identityId, entitlement, source: 'admin', reason: 'project', now: NOW, expiresAt, privileged: false, grantedBy: { actor: 'admin-1', amr: ['pwd'] }, sodPolicies: [], commandId },
    });
    const meta = (n: number) => ({ actor: 'admin-1', correlationId: `corr-${n}`, causationId: `cause-${n}` });
    const commands: AccessCommand[] = [
      grant('ada', 'repo:read', 'c1', '2026-03-09T09:00:00.000Z'),
      grant('bob', 'crm:read', 'c2', '2026-03-05T09:00:00.000Z'),
      // Granted and revoked in one go: no job is left for it.
      { type: 'RevokeAccess', data: { identityId: 'bob', grantId: 'c2:crm:read', reason: 'admin', now: NOW } },
      grant('ada', 'crm:read', 'c3'),
      // Cy's grant from before loses its job; his new one gets one.
      { type: 'RevokeAccess', data: { identityId: 'cy', entitlement: 'repo:read', reason: 'review', now: NOW } },
      grant('cy', 'repo:read', 'c4', '2026-03-12T09:00:00.000Z'),
      // Not yet due: nothing.
      { type: 'ExpireGrant', data: { identityId: 'ada', grantId: 'c1:repo:read', now: NOW } },
    ];
    const [oneByOne, batched] = await Promise.all([open('many_one'), open('many_batch')]);
    for (const context of [oneByOne, batched]) {
      await context.db.transaction((tx) => context.access.execute(tx, grant('cy', 'repo:read', 'c0', '2026-03-03T09:00:00.000Z'), meta(0)));
    }

    const single = await oneByOne.db.transaction(async (tx) => {
      const outcomes = [];
      for (const [i, command] of commands.entries()) outcomes.push(await oneByOne.access.execute(tx, command, meta(i + 1)));
      return outcomes;
    });
    const start = batched.statements();
    const together = await batched.db.transaction((tx) => batched.access.executeMany(tx, commands.map((command, i) => ({ command, meta: meta(i + 1) }))));

    // One read, one append, one cancel, one schedule.
    expect(batched.statements() - start).toBe(4);
    expect(together).toEqual(single);
    expect(await batched.state()).toEqual(await oneByOne.state());
    const pending = await batched.scheduler.pending();
    expect(pending).toEqual(await oneByOne.scheduler.pending());
    expect(pending.map((job) => [job.key, job.payload])).toEqual([
      ['expire:c1:repo:read', { identityId: 'ada', grantId: 'c1:repo:read', correlationId: 'corr-1' }],
      ['expire:c4:repo:read', { identityId: 'cy', grantId: 'c4:repo:read', correlationId: 'corr-6' }],
    ]);
  });
});
