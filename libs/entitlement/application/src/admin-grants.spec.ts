import { accessStreamId, entitlementStreamId } from '@custos/entitlement/contracts';
import { accessDecider, SelfGrant, StepUpRequired, ValidationFailed } from '@custos/entitlement/domain';
import { SqlDatabase, SqlEventStore } from '@custos/platform/event-store';
import { InProcessBus } from '@custos/platform/messaging';
import { ContextRuntime, createLogger, DurableScheduler, foldStream, migrateContext, readConfig } from '@custos/platform/runtime';
import { usePostgres } from '@custos/platform/testing';
import { AccessChecks } from './access-checks';
import { AccessService } from './access-service';
import { AccessView } from './read-models/access/access-view';
import { CatalogService } from './catalog-service';
import { CatalogView } from './read-models/catalog/catalog-view';
import { IdentityProfile, IdentityProfiles } from './read-models/identity-profiles/identity-profiles';
import { KnownIdentities } from './read-models/identity-profiles/known-identities';

const NOW = '2026-03-02T09:00:00.000Z';
const profile = (identityId: string): IdentityProfile => ({ identityId, status: 'active', department: 'Engineering', groups: [] });

/** The entitlement context's command side and check API over a real PostgreSQL, in its own schema. */
async function openContext(db: SqlDatabase, schema: string) {
  const store = await SqlEventStore.open(db, { context: 'entitlement', schema });
  const runtime: ContextRuntime = { context: 'entitlement', db, store, bus: new InProcessBus(), clock: () => new Date(NOW), logger: createLogger(readConfig({}), 'test'), publicUrl: 'http://localhost:3000' };
  const profiles = new IdentityProfiles(db, schema);
  const scheduler = new DurableScheduler(db, schema, runtime.clock);
  await migrateContext(db, schema, [(x) => profiles.migrate(x), (x) => scheduler.migrate(x)]);
  const fail = (error: unknown) => {
    throw error;
  };
  const catalog = new CatalogView(store, fail);
  const view = new AccessView(store, fail, { pollIntervalMs: 10 });
  const known = new KnownIdentities(db, schema, fail, 10);
  await Promise.all([catalog.start(), view.start()]);
  const catalogService = new CatalogService(runtime, catalog);
  const access = new AccessService(runtime, catalog, profiles, scheduler);
  return {
    store,
    profiles,
    known,
    catalogService,
    access,
    checks: new AccessChecks(view, known, profiles, runtime.clock),
    async holds(identityId: string) {
      const { state } = { state: foldStream(accessDecider, await store.readStream(accessStreamId(identityId))) };
      return state.grants.map((grant) => grant.entitlement);
    },
    async close() {
      await Promise.all([catalog.stop(), view.stop(), known.stop()]);
      await store.close();
    },
  };
}

describe('AccessService admin grants and AccessChecks over PostgreSQL', () => {
  const pg = usePostgres('admin_grants');
  let context: Awaited<ReturnType<typeof openContext>>;
  const adminA = { actor: 'admin-a' };
  const adminB = { actor: 'admin-b' };
  const grant = (data: Partial<Parameters<AccessService['adminGrant']>[0]> = {}) => ({ identityId: 'ada', entitlement: 'repo:read', reason: 'project', amr: ['pwd'], ...data });

  beforeEach(async () => {
    context = await openContext(pg.db, pg.schema);
    await context.catalogService.defineEntitlement({ key: 'repo:read', application: 'repo', name: 'Read', privileged: false, risk: 'low' }, adminA);
    await context.catalogService.defineEntitlement({ key: 'prod:root', application: 'prod', name: 'Root', privileged: true, risk: 'critical' }, adminA);
    await pg.db.transaction((tx) => context.profiles.recordMany(tx, [profile('ada'), profile('admin-a')]));
  });

  afterEach(async () => {
    await context.close();
  });

  it('grants again with an Idempotency-Key used before the grant was revoked', async () => {
    const first = await context.access.adminGrant(grant({ idempotencyKey: 'K' }), adminA);
    expect(first.events.map((e) => e.type)).toEqual(['AccessGranted']);
    await context.access.adminRevoke({ identityId: 'ada', entitlement: 'repo:read', reason: 'done' }, adminA);
    expect(await context.holds('ada')).toEqual([]);

    const again = await context.access.adminGrant(grant({ idempotencyKey: 'K' }), adminA);
    expect(again.events.map((e) => e.type)).toEqual(['AccessGranted']);
    expect(await context.holds('ada')).toEqual(['repo:read']);
    // A retry of that grant while it is held changes nothing.
    expect((await context.access.adminGrant(grant({ idempotencyKey: 'K' }), adminA)).events).toEqual([]);
  });

  it('grants to admin B with the Idempotency-Key admin A used: keys are per caller', async () => {
    await context.access.adminGrant(grant({ entitlement: 'repo:read', idempotencyKey: 'K' }), adminA);
    await context.access.adminRevoke({ identityId: 'ada', entitlement: 'repo:read', reason: 'done' }, adminA);
    const byB = await context.access.adminGrant(grant({ entitlement: 'repo:read', idempotencyKey: 'K' }), adminB);
    expect(byB.events.map((e) => e.type)).toEqual(['AccessGranted']);
    expect(byB.events[0].data).toMatchObject({ grantId: expect.not.stringContaining('admin-a') });
  });

  it('refuses a self-grant and a privileged grant without mfa, writing nothing', async () => {
    await expect(context.access.adminGrant(grant({ identityId: 'admin-a' }), adminA)).rejects.toBeInstanceOf(SelfGrant);
    await expect(context.access.adminGrant(grant({ entitlement: 'prod:root' }), adminA)).rejects.toBeInstanceOf(StepUpRequired);
    expect((await context.store.readStream(accessStreamId('admin-a'))).length + (await context.store.readStream(accessStreamId('ada'))).length).toBe(0);
    expect((await context.access.adminGrant(grant({ entitlement: 'prod:root', amr: ['pwd', 'mfa'] }), adminA)).events).toHaveLength(1);
  });

  it.each(['P300000Y', 'PT99999999999999999999H'])('refuses the duration %s with a 400 naming duration, writing nothing', async (duration) => {
    await expect(context.access.adminGrant(grant({ duration }), adminA)).rejects.toMatchObject({ code: 'validation-failed', errors: [{ field: 'duration' }] });
    expect(await context.store.readStream(accessStreamId('ada'))).toEqual([]);
  });

  it('refuses a maxDuration of P300000Y naming maxDuration; one stored before the bound no longer fails grants', async () => {
    await expect(context.catalogService.changeEntitlement({ key: 'repo:read', maxDuration: 'P300000Y' }, adminA)).rejects.toBeInstanceOf(ValidationFailed);
    await context.store.append(
      entitlementStreamId('old:app'),
      [{ name: 'EntitlementDefined', data: { key: 'old:app', application: 'old', name: 'Old', privileged: false, risk: 'low', maxDuration: 'P300000Y', breakGlass: false, approvalPolicy: { steps: [{ kind: 'manager', required: 1 }] }, definedAt: NOW, definedBy: 'admin-a' }, actor: 'admin-a' }],
      'no-stream',
    );
    const granted = await context.access.adminGrant(grant({ entitlement: 'old:app', duration: 'PT4H' }), adminA);
    expect(granted.events[0]).toMatchObject({ type: 'AccessGranted', data: { expiresAt: '2026-03-02T13:00:00.000Z' } });
  });

  it('checks an unknown identity as unknown-identity from memory, and one known from its profile (another replica’s after the next refresh, or once confirmed) as not-granted', async () => {
    await context.known.start();
    expect(context.checks.check('nobody', 'repo:read')).toEqual({ allowed: false, reason: 'unknown-identity', grantIds: [] });
    expect(context.checks.check('ada', 'repo:read')).toMatchObject({ allowed: false, reason: 'not-granted' });
    // Recorded after start, as another replica would: learnt by the next refresh, or confirmed at once (the /access routes).
    await pg.db.transaction((tx) => context.profiles.recordMany(tx, [profile('bob'), profile('cy')]));
    expect(context.checks.check('bob', 'repo:read')).toMatchObject({ reason: 'unknown-identity' });
    expect(await context.checks.isKnown('bob')).toBe(true);
    expect(context.checks.check('bob', 'repo:read')).toMatchObject({ reason: 'not-granted' });
    await context.known.refresh();
    expect(context.checks.check('cy', 'repo:read')).toMatchObject({ reason: 'not-granted' });
    expect(await context.checks.isKnown('nobody')).toBe(false);
  });
});
