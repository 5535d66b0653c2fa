import { accessStreamId } from '@custos/entitlement/contracts';
import { accessDecider, type BirthrightReason } from '@custos/entitlement/domain';
import type { IdentitySnapshot } from '@custos/identity/contracts';
import { CustosEvent, SqlDatabase, SqlEventStore, SqlExecutor } from '@custos/platform/event-store';
import { InProcessBus } from '@custos/platform/messaging';
import { CommandMeta, ContextRuntime, createLogger, DurableScheduler, Inbox, migrateContext, readConfig } from '@custos/platform/runtime';
import { usePostgres } from '@custos/platform/testing';
import { AccessService } from './access-service';
import { CatalogService } from './catalog-service';
import { CatalogView } from './catalog-view';
import { IdentityLifecycle } from './identity-lifecycle';
import { IdentityProfile, IdentityProfiles } from './identity-profiles';

const NOW = '2026-03-02T09:00:00.000Z';
const IDENTITIES = ['ada', 'bob', 'cy', 'dee'];

const snapshot = (identityId: string, department: string, status: IdentitySnapshot['status'] = 'active'): IdentitySnapshot => ({
  identityId,
  employeeId: `E-${identityId}`,
  givenName: identityId,
  familyName: 'Example',
  email: `${identityId}@example.com`,
  department,
  employmentType: 'employee',
  groups: [],
  status,
});

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

/** Access service that fails the birthright of one identity, to break a batch in the middle. */
class FailingAccess extends AccessService {
  failFor?: string;

  override async applyBirthright(tx: SqlExecutor, profile: IdentityProfile, reason: BirthrightReason, commandId: string, meta: CommandMeta) {
    if (profile.identityId === this.failFor) throw new Error(`birthright of ${profile.identityId} failed`);
    return super.applyBirthright(tx, profile, reason, commandId, meta);
  }
}

/** The entitlement context around an IdentityLifecycle, in its own schema, with Engineering and Sales birthright. */
async function openContext(db: SqlDatabase, schema: string) {
  const store = await SqlEventStore.open(db, { context: 'entitlement', schema });
  const runtime: ContextRuntime = { context: 'entitlement', db, store, bus: new InProcessBus(), clock: () => new Date(NOW), logger: createLogger(readConfig({}), 'test') };
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
    lifecycle,
    access,
    /** Each identity's access events (ids aside), profile, and the entitlements it holds now. */
    async state() {
      const result: Record<string, unknown> = {};
      for (const identityId of IDENTITIES) {
        const events = (await store.readStream(accessStreamId(identityId))).map((e) => ({ name: e.name, data: e.data }));
        const folded = events.map((e) => ({ type: e.name, data: e.data }) as Parameters<typeof accessDecider.evolve>[1]).reduce(accessDecider.evolve, accessDecider.initialState());
        result[identityId] = { events, profile: await profiles.get(identityId), status: folded.status, holds: folded.grants.map((g) => g.entitlement).sort() };
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
    await expect(context.lifecycle.handleBatch([adaHired, bobHired])).rejects.toThrow('birthright of bob failed');
    expect(await context.claimed()).toBe(0);
    expect(await context.state()).toMatchObject({ ada: { events: [], profile: null }, bob: { events: [], profile: null } });

    // As the bus does next: one event at a time, so only the failing one is retried.
    await context.lifecycle.handle(adaHired);
    await expect(context.lifecycle.handle(bobHired)).rejects.toThrow('birthright of bob failed');
    expect(await context.state()).toMatchObject({ ada: { holds: ['repo:read'] }, bob: { events: [], profile: null } });
  });
});
