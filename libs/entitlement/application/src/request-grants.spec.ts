import { accessStreamId } from '@custos/entitlement/contracts';
import { accessDecider, DurationExceedsMaximum, NotHeld } from '@custos/entitlement/domain';
import { SqlEventStore } from '@custos/platform/event-store';
import { InProcessBus } from '@custos/platform/messaging';
import { ContextRuntime, createLogger, DurableScheduler, foldStream, migrateContext, readConfig } from '@custos/platform/runtime';
import { usePostgres } from '@custos/platform/testing';
import { AccessService } from './access-service';
import { CatalogService } from './catalog-service';
import { CatalogView } from './read-models/catalog/catalog-view';
import { IdentityProfiles } from './read-models/identity-profiles/identity-profiles';

const NOW = '2026-03-02T09:00:00.000Z';
const IN_ONE_HOUR = '2026-03-02T10:00:00.000Z';
const IN_THREE_HOURS = '2026-03-02T12:00:00.000Z';

/** A request's just-in-time grant extended through AccessService over a real PostgreSQL: its end and its expiry job move together. */
describe('AccessService.extendRequest over PostgreSQL', () => {
  const pg = usePostgres('request_grants');
  let store: SqlEventStore;
  let catalog: CatalogView;
  let access: AccessService;
  const meta = { actor: 'system:request-fulfilment' };

  beforeEach(async () => {
    store = await SqlEventStore.open(pg.db, { context: 'entitlement', schema: pg.schema });
    const runtime: ContextRuntime = { context: 'entitlement', db: pg.db, store, bus: new InProcessBus(), clock: () => new Date(NOW), logger: createLogger(readConfig({}), 'test'), publicUrl: 'http://localhost:3000' };
    const profiles = new IdentityProfiles(pg.db, pg.schema);
    const scheduler = new DurableScheduler(pg.db, pg.schema, runtime.clock);
    await migrateContext(pg.db, pg.schema, [(x) => profiles.migrate(x), (x) => scheduler.migrate(x)]);
    catalog = new CatalogView(store, (error) => {
      throw error;
    });
    await catalog.start();
    const catalogService = new CatalogService(runtime, catalog);
    await catalogService.defineEntitlement({ key: 'db:read', application: 'db', name: 'Read', privileged: false, risk: 'low' }, { actor: 'admin' });
    await catalogService.defineEntitlement({ key: 'db:capped', application: 'db', name: 'Capped', privileged: false, risk: 'low', maxDuration: 'PT2H' }, { actor: 'admin' });
    access = new AccessService(runtime, catalog, profiles, scheduler);
    for (const entitlement of ['db:read', 'db:capped']) {
      await pg.db.transaction((tx) =>
        access.execute(
          tx,
          {
            type: 'GrantAccess',
            data: { identityId: 'ada', entitlement, source: 'request', requestId: `req-${entitlement}`, reason: 'report', now: NOW, expiresAt: IN_ONE_HOUR, privileged: false, grantedBy: { actor: 'olga', amr: [] }, sodPolicies: [], commandId: `request:req-${entitlement}` },
          },
          meta,
        ),
      );
    }
  });

  afterEach(async () => {
    await catalog.stop();
    await store.close();
  });

  const extend = (requestId: string, expiresAt = IN_THREE_HOURS) =>
    pg.db.transaction((tx) => access.extendRequest(tx, { identityId: 'ada', requestId, round: 1, expiresAt, reason: 'runs late', extendedBy: 'olga' }, meta));
  const dueAt = async (grantId: string) =>
    (await pg.db.query<{ due_at: Date }>(`SELECT due_at FROM ${pg.schema}.scheduled_jobs WHERE key = $1`, [`expire:${grantId}`])).rows.map((r) => new Date(r.due_at).toISOString());

  it('moves the grant\'s end and its expiry job to the new end; a repeat changes nothing', async () => {
    const grantId = 'request:req-db:read:db:read';
    expect(await dueAt(grantId)).toEqual([IN_ONE_HOUR]);
    const { events } = await extend('req-db:read');
    expect(events).toEqual([expect.objectContaining({ type: 'AccessExtended', data: expect.objectContaining({ grantId, previousExpiresAt: IN_ONE_HOUR, expiresAt: IN_THREE_HOURS }) })]);
    expect(await dueAt(grantId)).toEqual([IN_THREE_HOURS]);
    expect((await extend('req-db:read')).events).toEqual([]);
    const state = foldStream(accessDecider, await store.readStream(accessStreamId('ada')));
    expect(state.grants.find((grant) => grant.grantId === grantId)?.expiresAt).toBe(IN_THREE_HOURS);
  });

  it('caps the new end by the entitlement\'s maxDuration in the catalog, writing nothing', async () => {
    await expect(extend('req-db:capped')).rejects.toBeInstanceOf(DurationExceedsMaximum);
    expect(await dueAt('request:req-db:capped:db:capped')).toEqual([IN_ONE_HOUR]);
  });

  it('refuses a request none of whose grants is held (NotHeld)', async () => {
    await expect(extend('req-unknown')).rejects.toBeInstanceOf(NotHeld);
  });
});
