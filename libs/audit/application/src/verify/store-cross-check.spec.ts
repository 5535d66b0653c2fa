import { createPgDatabase, SqlDatabase, SqlEventStore, START } from '@custos/platform/event-store';
import { InProcessBus } from '@custos/platform/messaging';
import { serveStoreEvents, storeEventsSubject, type StoreEventsPage } from '@custos/platform/runtime';
import { createTestDatabase } from '@custos/platform/testing';
import { AuditLog } from '../read-models/audit-log/audit-log';
import { verifyAll, type StorePages } from './store-cross-check';

/**
 * The audit log against the identity context's store (the real SQL event store on a real
 * PostgreSQL), over the store's own RPC on the in-process bus: a change made in the database on
 * either side, with its protection switched off, is found and named.
 */
describe('verify: the audit log against the contexts’ event stores', () => {
  let db: SqlDatabase;
  let drop: () => Promise<void>;
  let store: SqlEventStore;
  let log: AuditLog;
  let bus: InProcessBus;
  let pages: StorePages;

  beforeEach(async () => {
    const database = await createTestDatabase('custos_audit_cross');
    drop = database.drop;
    db = createPgDatabase(database.url);
    store = await SqlEventStore.open(db, { context: 'identity', schema: 'identity' });
    log = new AuditLog(db);
    await log.migrate();
    bus = new InProcessBus();
    await serveStoreEvents(bus, store);
    pages = (context, request) => bus.request<StoreEventsPage>(storeEventsSubject(context), request);
    for (let i = 1; i <= 5; i++) {
      await store.append(`identity-p${i}`, [{ name: 'IdentityHired', data: { identityId: `p${i}`, n: i }, actor: 'hr:test' }], 'no-stream');
    }
    await log.recordBatch((await store.readAll(START, 100)).events);
  });

  afterEach(async () => {
    await bus.close();
    await store.close();
    await db.close();
    await drop();
  });

  const tampered = (sql: string, table = 'identity.events', trigger = 'events_are_immutable') =>
    db.transaction(async (tx) => {
      await tx.query(`ALTER TABLE ${table} DISABLE TRIGGER ${trigger}`);
      await tx.query(sql);
      await tx.query(`ALTER TABLE ${table} ENABLE TRIGGER ${trigger}`);
    });

  it('agrees with a store it has recorded, and counts what it has not recorded yet as pending', async () => {
    await store.append('identity-p6', [{ name: 'IdentityHired', data: { identityId: 'p6' }, actor: 'hr:test' }], 'no-stream');
    const verdict = await verifyAll(log, ['identity'], pages);
    expect(verdict).toMatchObject({ ok: true, events: 5, stores: [{ context: 'identity', ok: true, events: 5, pending: 1 }] });
  });

  it('names a stored event changed in the database', async () => {
    await tampered(`UPDATE identity.events SET data = '{"identityId": "p3", "n": 33}' WHERE global_position = 3`);
    const verdict = await verifyAll(log, ['identity'], pages);
    expect(verdict.ok).toBe(false);
    expect(verdict.stores[0]).toMatchObject({ ok: false, problem: 'changed', seq: 3, position: '3', events: 2 });
  });

  it('names an event deleted from the store', async () => {
    await tampered(`DELETE FROM identity.events WHERE global_position = 2`);
    expect((await verifyAll(log, ['identity'], pages)).stores[0]).toMatchObject({ ok: false, problem: 'not-in-store', seq: 2, events: 1 });
    await tampered(`DELETE FROM identity.events WHERE global_position = 5`);
    expect((await verifyAll(log, ['identity'], pages)).stores[0]).toMatchObject({ ok: false, problem: 'not-in-store', seq: 2 });
  });

  it('names an event inserted into the store between two the log holds', async () => {
    await tampered(`INSERT INTO identity.events (global_position, tx_id, stream_id, stream_version, event_id, name, type, data, time, correlation_id, causation_id, actor)
      SELECT 1000, tx_id, 'identity-forged', 1, '00000000-0000-4000-8000-000000000001', 'IdentityHired', type, '{"identityId": "forged"}', time, 'c', 'c', 'x'
      FROM identity.events WHERE global_position = 2`);
    expect((await verifyAll(log, ['identity'], pages)).stores[0]).toMatchObject({
      ok: false, problem: 'missing-from-log', eventId: '00000000-0000-4000-8000-000000000001', position: '1000', seq: 3,
    });
  });

  it('names an entry deleted from the log on both sides: the tree, and the store’s event it lacks', async () => {
    await tampered(`DELETE FROM audit.log WHERE seq = 4`, 'audit.log', 'log_append_only');
    const verdict = await verifyAll(log, ['identity'], pages);
    expect(verdict).toMatchObject({ ok: false, brokenAt: 4, problem: 'deleted' });
    expect(verdict.stores[0]).toMatchObject({ ok: false, problem: 'missing-from-log', position: '4', seq: 5 });
  });

  it('says a store that does not answer could not be checked, when the log holds events of its context', async () => {
    const silent: typeof pages = (context, request) => (context === 'identity' ? Promise.reject(new Error('no responders')) : pages(context, request));
    const verdict = await verifyAll(log, ['identity'], silent);
    expect(verdict.ok).toBe(false);
    expect(verdict.stores[0]).toMatchObject({ context: 'identity', ok: false, problem: 'unreachable' });
  });

  it('takes a context that nothing answers for and the log holds nothing of as not deployed: nothing to compare', async () => {
    const verdict = await verifyAll(log, ['identity', 'nobody'], pages);
    expect(verdict.stores[1]).toEqual({ context: 'nobody', ok: true, events: 0, pending: 0, absent: true });
    expect(verdict.ok).toBe(true);
  });
});
