import { randomUUID } from 'node:crypto';
import { createPgDatabase, CustosEvent, SqlDatabase } from '@custos/platform/event-store';
import { createTestDatabase } from '@custos/platform/testing';
import { AuditLog, identityOf } from './audit-log';

function event(over: Partial<CustosEvent> = {}): CustosEvent {
  const id = randomUUID();
  return {
    specversion: '1.0', id, source: '/custos/identity', type: 'custos.identity.IdentityHired.v1', subject: 'identity-i1', time: '2026-11-22T10:00:00.000Z',
    datacontenttype: 'application/json', data: { identityId: 'i1', n: 1 }, streamversion: 1, globalposition: '1', correlationid: id, causationid: id,
    actor: 'hr:workday', name: 'IdentityHired', ...over,
  };
}

/** The audit log against a real PostgreSQL: once per event, hash-chained, append-only. */
describe('audit log', () => {
  let db: SqlDatabase;
  let drop: () => Promise<void>;
  let log: AuditLog;

  beforeEach(async () => {
    const database = await createTestDatabase('custos_audit');
    drop = database.drop;
    db = createPgDatabase(database.url);
    log = new AuditLog(db);
    await log.migrate();
  });

  afterEach(async () => {
    await db.close();
    await drop();
  });

  it('records a redelivered event once', async () => {
    const e = event();
    expect(await log.record(e)).toBe('recorded');
    expect(await log.record(e)).toBe('duplicate');
    expect((await log.query({ limit: 10 })).items).toHaveLength(1);
  });

  it('keeps one valid chain while many consumers record at once', async () => {
    await Promise.all(Array.from({ length: 40 }, (_, i) => log.record(event({ data: { identityId: `i${i % 4}`, n: i } }))));
    const verdict = await log.verify(7);
    expect(verdict).toMatchObject({ ok: true, events: 40 });
  });

  it('refuses UPDATE, DELETE and TRUNCATE of the log', async () => {
    await log.record(event());
    await expect(db.query(`UPDATE audit.log SET name = 'x'`)).rejects.toThrow(/append-only/);
    await expect(db.query('DELETE FROM audit.log')).rejects.toThrow(/append-only/);
    await expect(db.query('TRUNCATE audit.log')).rejects.toThrow(/append-only/);
  });

  it('detects an entry rewritten behind the trigger (by a superuser who disabled it)', async () => {
    for (let i = 0; i < 5; i++) await log.record(event({ data: { identityId: 'i1', n: i } }));
    await db.query('ALTER TABLE audit.log DISABLE TRIGGER log_append_only');
    await db.query(`UPDATE audit.log SET event = jsonb_set(event, '{data,n}', '99') WHERE seq = 3`);
    const verdict = await log.verify();
    expect(verdict).toMatchObject({ ok: false, brokenAt: 3, events: 2 });
  });

  it('filters by identity, event name or type, correlation id and time, and pages with a cursor', async () => {
    const corr = randomUUID();
    await log.record(event({ subject: 'identity-a', data: { identityId: 'a' }, correlationid: corr, time: '2026-01-01T00:00:00.000Z' }));
    await log.record(event({ subject: 'access-a', name: 'AccessGranted', type: 'custos.entitlement.AccessGranted.v1', data: { identityId: 'a' }, correlationid: corr, time: '2026-01-02T00:00:00.000Z' }));
    await log.record(event({ subject: 'identity-b', data: { identityId: 'b' }, time: '2026-01-03T00:00:00.000Z' }));
    expect((await log.query({ identityId: 'a', limit: 10 })).items.map((i) => i.event.name)).toEqual(['IdentityHired', 'AccessGranted']);
    expect((await log.query({ type: 'AccessGranted', limit: 10 })).items).toHaveLength(1);
    expect((await log.query({ type: 'custos.entitlement.AccessGranted.v1', limit: 10 })).items).toHaveLength(1);
    expect((await log.query({ correlationId: corr, limit: 10 })).items).toHaveLength(2);
    expect((await log.query({ from: new Date('2026-01-02T00:00:00Z'), to: new Date('2026-01-03T00:00:00Z'), limit: 10 })).items).toHaveLength(1);
    const first = await log.query({ limit: 2 });
    expect(first.next).not.toBeNull();
    const second = await log.query({ limit: 2, after: Number(first.next) });
    expect(second.items.map((i) => i.event.subject)).toEqual(['identity-b']);
    expect(second.next).toBeNull();
  });

  it('knows which identity an event concerns', () => {
    expect(identityOf(event({ data: { identityId: 'x' } }))).toBe('x');
    expect(identityOf(event({ subject: 'access-y', data: {} }))).toBe('y');
    expect(identityOf(event({ subject: 'role-admin', data: {} }))).toBeNull();
  });
});
