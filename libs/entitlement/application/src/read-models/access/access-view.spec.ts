import { accessStreamId, entitlementStreamId } from '@custos/entitlement/contracts';
import { createPgliteDatabase, SqlDatabase, SqlEventStore } from '@custos/platform/event-store';
import { AccessView } from './access-view';

const T0 = '2026-03-02T09:00:00.000Z';
const at = (iso: string) => new Date(iso);

/** The access view over a real (embedded PGlite) store: appended events in, decisions out. */
describe('AccessView over the event store', () => {
  let db: SqlDatabase;
  let store: SqlEventStore;
  const views: AccessView[] = [];
  const errors: unknown[] = [];

  const open = async (batchSize?: number) => {
    const view = new AccessView(store, (error) => errors.push(error), { batchSize, pollIntervalMs: 10 });
    views.push(view);
    await view.start();
    return view;
  };
  const grant = (identityId: string, grantId: string, entitlement: string, extra: Record<string, unknown> = {}) => ({
    name: 'AccessGranted',
    data: { grantId, identityId, entitlement, source: 'birthright', role: 'engineer', ruleKey: 'eng', grantedAt: T0, reason: 'joiner', ...extra },
    actor: 'system:test',
  });

  beforeAll(async () => {
    db = await createPgliteDatabase();
    store = await SqlEventStore.open(db, { context: 'entitlement', schema: 'entitlement' });
  }, 60_000);

  afterEach(async () => {
    await Promise.all(views.splice(0).map((v) => v.stop()));
    expect(errors).toEqual([]);
  });

  afterAll(async () => {
    await store.close();
    await db.close();
  });

  it('replays the store at start, follows new events, and denies from AccessTerminated and from expiresAt on', async () => {
    await store.append(entitlementStreamId('github-write'), [{ name: 'EntitlementDefined', data: { key: 'github-write' }, actor: 'admin' }], 'no-stream');
    await store.append(
      accessStreamId('ada'),
      [grant('ada', 'c1:eng:engineer:github:write', 'github:write'), grant('ada', 'c2:aws:admin', 'aws:admin', { source: 'request', requestId: 'r-1', expiresAt: '2026-03-02T10:00:00.000Z', reason: 'incident' })],
      'no-stream',
    );
    await store.append(accessStreamId('bob'), [grant('bob', 'c3:eng:engineer:github:write', 'github:write')], 'no-stream');

    const view = await open(1);
    expect(view.size).toBe(2);
    expect(view.check('ada', 'github:write', at(T0))).toEqual({ allowed: true, reason: 'granted', grantIds: ['c1:eng:engineer:github:write'] });
    expect(view.check('ada', 'aws:admin', at(T0))).toEqual({ allowed: true, reason: 'granted', grantIds: ['c2:aws:admin'], expiresAt: '2026-03-02T10:00:00.000Z' });
    // No expiry job has run (no AccessRevoked in the store): the end alone denies.
    expect(view.check('ada', 'aws:admin', at('2026-03-02T10:00:00.000Z'))).toEqual({ allowed: false, reason: 'expired', grantIds: [] });
    expect(view.check('ada', 'slack:member', at(T0))).toEqual({ allowed: false, reason: 'not-granted', grantIds: [] });
    expect(view.of('ada')).toEqual({
      status: 'active',
      grants: [
        { grantId: 'c1:eng:engineer:github:write', entitlement: 'github:write', source: 'birthright', role: 'engineer', ruleKey: 'eng', grantedAt: T0, reason: 'joiner' },
        { grantId: 'c2:aws:admin', entitlement: 'aws:admin', source: 'request', role: 'engineer', ruleKey: 'eng', requestId: 'r-1', grantedAt: T0, expiresAt: '2026-03-02T10:00:00.000Z', reason: 'incident' },
      ],
    });

    // Live: the leaver's termination is written before its revocations; the check denies at once.
    await store.append(accessStreamId('bob'), [{ name: 'AccessTerminated', data: { identityId: 'bob', at: T0 }, actor: 'hr:workday' }], 1);
    await view.catchUp();
    expect(view.check('bob', 'github:write', at(T0))).toEqual({ allowed: false, reason: 'terminated', grantIds: [] });
    expect(view.of('bob')?.status).toBe('terminated');

    await store.append(
      accessStreamId('ada'),
      [{ name: 'AccessRevoked', data: { identityId: 'ada', grantId: 'c1:eng:engineer:github:write', entitlement: 'github:write', source: 'birthright', reason: 'mover', revokedAt: T0 }, actor: 'system:test' }],
      2,
    );
    await view.catchUp();
    expect(view.check('ada', 'github:write', at(T0)).allowed).toBe(false);
    expect(view.of('ada')?.grants.map((g) => g.grantId)).toEqual(['c2:aws:admin']);

    // The poll finds events appended without an explicit catch-up.
    await store.append(accessStreamId('bob'), [{ name: 'AccessReinstated', data: { identityId: 'bob', at: T0 }, actor: 'hr:workday' }], 2);
    for (let i = 0; i < 100 && !view.check('bob', 'github:write', at(T0)).allowed; i++) await new Promise((r) => setTimeout(r, 10));
    expect(view.check('bob', 'github:write', at(T0))).toEqual({ allowed: true, reason: 'granted', grantIds: ['c3:eng:engineer:github:write'] });
  });

  it('rebuilds from the store to the same answers as the view that followed live, whatever the batch size', async () => {
    const identities = Array.from({ length: 30 }, (_, i) => `rebuild-${i}`);
    for (const [i, id] of identities.entries()) {
      const events = Array.from({ length: 5 }, (_, j) => grant(id, `${id}:g${j}`, `app-${(i + j) % 7}:use`, j === 4 ? { expiresAt: '2026-03-02T09:30:00.000Z' } : {}));
      await store.append(accessStreamId(id), events, 'no-stream');
      if (i % 10 === 3) await store.append(accessStreamId(id), [{ name: 'AccessTerminated', data: { identityId: id, at: T0 }, actor: 'hr:workday' }], 5);
    }
    const small = await open(7);
    const large = await open();
    const instants = [T0, '2026-03-02T09:30:00.000Z'];
    for (const id of identities) {
      for (let e = 0; e < 7; e++) {
        for (const now of instants) {
          const expected = small.check(id, `app-${e}:use`, at(now));
          expect(large.check(id, `app-${e}:use`, at(now))).toEqual(expected);
        }
      }
      expect(large.of(id)).toEqual(small.of(id));
    }
    expect(small.check('rebuild-3', 'app-3:use', at(T0)).reason).toBe('terminated');
    expect(small.check('rebuild-4', 'app-1:use', at(T0))).toEqual({ allowed: true, reason: 'granted', grantIds: ['rebuild-4:g4'], expiresAt: '2026-03-02T09:30:00.000Z' });
    expect(small.check('rebuild-4', 'app-1:use', at('2026-03-02T09:30:00.000Z')).reason).toBe('expired');
  });
});
