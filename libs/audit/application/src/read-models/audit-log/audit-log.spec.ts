import { randomUUID } from 'node:crypto';
import { createPgDatabase, createPgliteDatabase, CustosEvent, SqlDatabase } from '@custos/platform/event-store';
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

/** The hashes of the whole log, oldest first. */
async function hashesOf(log: AuditLog): Promise<string[]> {
  return (await log.query({ limit: 1_000 })).items.map((entry) => entry.hash);
}

/** The audit log against a real PostgreSQL: once per event, the leaves of a Merkle tree, append-only. */
describe('audit log', () => {
  let url: string;
  let db: SqlDatabase;
  let drop: () => Promise<void>;
  let log: AuditLog;

  beforeEach(async () => {
    const database = await createTestDatabase('custos_audit');
    url = database.url;
    drop = database.drop;
    db = createPgDatabase(url);
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

  it('keeps one valid tree while many consumers record at once', async () => {
    await Promise.all(Array.from({ length: 40 }, (_, i) => log.record(event({ data: { identityId: `i${i % 4}`, n: i } }))));
    const verdict = await log.verify(7);
    expect(verdict).toMatchObject({ ok: true, events: 40 });
  });

  it('builds the same tree from a batch as from the same events recorded one by one', async () => {
    const events = Array.from({ length: 12 }, (_, i) => event({ data: { identityId: `i${i % 3}`, n: i } }));
    events.push(event({ subject: 'role-admin', data: {} }));
    expect(await log.recordBatch(events.slice(0, 5))).toBe(5);
    expect(await log.recordBatch(events.slice(5))).toBe(8);
    const oneByOne = new AuditLog(db, 'audit_one_by_one');
    await oneByOne.migrate();
    for (const e of events) expect(await oneByOne.record(e)).toBe('recorded');

    expect(await log.verify(4)).toMatchObject({ ok: true, events: 13 });
    expect(await hashesOf(log)).toEqual(await hashesOf(oneByOne));
    expect((await log.query({ limit: 100 })).items.map((entry) => entry.event.id)).toEqual(events.map((e) => e.id));
  });

  it('skips events already recorded, earlier in the same batch or in another', async () => {
    const [a, b, c] = [event(), event(), event()];
    expect(await log.recordBatch([a, b, a])).toBe(2);
    expect(await log.recordBatch([b, c, c])).toBe(1);
    expect(await log.recordBatch([c, a])).toBe(0);
    expect(await log.record(c)).toBe('duplicate');
    expect(await log.recordBatch([])).toBe(0);
    expect((await log.query({ limit: 10 })).items.map((entry) => entry.event.id)).toEqual([a.id, b.id, c.id]);
    expect(await log.verify()).toMatchObject({ ok: true, events: 3 });
  });

  it('records batches arriving together in one transaction, in arrival order, each counted once', async () => {
    const transactions = jest.spyOn(db, 'transaction');
    const [a, b, c, d, e] = Array.from({ length: 5 }, (_, i) => event({ data: { identityId: `i${i}`, n: i } }));
    // The first runs alone at once; the three arriving meanwhile share the next transaction.
    const counts = await Promise.all([log.recordBatch([a]), log.recordBatch([b, c]), log.recordBatch([c, d]), log.recordBatch([a, e])]);
    expect(counts).toEqual([1, 2, 1, 1]);
    expect(transactions).toHaveBeenCalledTimes(2);
    expect((await log.query({ limit: 10 })).items.map((entry) => entry.event.id)).toEqual([a, b, c, d, e].map((x) => x.id));
    expect(await log.verify()).toMatchObject({ ok: true, events: 5 });
  });

  it('records the other batches of a shared transaction when the database refuses one of them', async () => {
    const [a, b, c] = [event(), event(), event()];
    const refused = event({ time: 'not a time' });
    const results = await Promise.allSettled([log.recordBatch([a]), log.recordBatch([b]), log.recordBatch([refused]), log.recordBatch([c])]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
    expect((await log.query({ limit: 10 })).items.map((entry) => entry.event.id)).toEqual([a.id, b.id, c.id]);
    expect(await log.verify()).toMatchObject({ ok: true, events: 3 });
  });

  it('never forks the tree while two replicas record overlapping batches at once', async () => {
    const otherDb = createPgDatabase(url);
    try {
      const replicas = [log, new AuditLog(otherDb)];
      const events = Array.from({ length: 65 }, (_, i) => event({ data: { identityId: `i${i % 5}`, n: i } }));
      // Batches of 10 that overlap by 5, as redeliveries reach either replica.
      await Promise.all(Array.from({ length: 12 }, (_, k) => replicas[k % 2].recordBatch(events.slice(k * 5, k * 5 + 10))));
      expect(await log.verify(7)).toMatchObject({ ok: true, events: 65 });
    } finally {
      await otherDb.close();
    }
  });

  it('records batches on PGlite, the embedded database, with the same hashes', async () => {
    const events = [event(), event({ subject: 'role-admin', data: {} }), event()];
    await log.recordBatch(events);
    const lite = await createPgliteDatabase();
    try {
      const embedded = new AuditLog(lite);
      await embedded.migrate();
      expect(await embedded.recordBatch([...events, events[0]])).toBe(3);
      expect(await embedded.verify()).toMatchObject({ ok: true, events: 3 });
      expect(await hashesOf(embedded)).toEqual(await hashesOf(log));
      expect((await embedded.query({ identityId: 'i1', limit: 10 })).items).toHaveLength(2);
    } finally {
      await lite.close();
    }
    // PGlite starts a wasm PostgreSQL in a worker: seconds on a busy machine.
  }, 60_000);

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

  it('builds the tree over a log written before it, with the hash chain of earlier versions', async () => {
    await db.query(`CREATE SCHEMA audit_v1`);
    await db.query(`CREATE TABLE audit_v1.log (seq bigint PRIMARY KEY, event_id text NOT NULL UNIQUE, name text NOT NULL, type text NOT NULL, source text NOT NULL,
      subject text NOT NULL, identity_id text, correlation_id text, time timestamptz NOT NULL, received_at timestamptz NOT NULL DEFAULT now(), event jsonb NOT NULL,
      prev_hash text NOT NULL, hash text NOT NULL)`);
    const events = Array.from({ length: 5 }, (_, i) => event({ data: { identityId: 'i1', n: i } }));
    for (const [i, e] of events.entries()) {
      await db.query(`INSERT INTO audit_v1.log (seq, event_id, name, type, source, subject, time, event, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'x', 'y')`, [i + 1, e.id, e.name, e.type, e.source, e.subject, e.time, JSON.stringify(e)]);
    }
    const upgraded = new AuditLog(db, 'audit_v1');
    await upgraded.migrate();
    await upgraded.migrate();
    expect(await upgraded.verify(2)).toMatchObject({ ok: true, events: 5, treeSize: 5 });
    await log.recordBatch(events);
    expect(await hashesOf(upgraded)).toEqual(await hashesOf(log));
    expect(await upgraded.record(event())).toBe('recorded');
    expect(await upgraded.verify()).toMatchObject({ ok: true, events: 6 });
  });

  it('knows which identity an event concerns, as the context that wrote it says (its contracts)', () => {
    expect(identityOf(event({ subject: 'identity-x', data: { identityId: 'x' } }))).toBe('x');
    expect(identityOf(event({ type: 'custos.entitlement.AccessGranted.v1', subject: 'access-y', name: 'AccessGranted', data: {} }))).toBe('y');
    expect(identityOf(event({ type: 'custos.entitlement.RoleDefined.v1', subject: 'role-admin', name: 'RoleDefined', data: {} }))).toBeNull();
    expect(identityOf(event({ type: 'custos.request.RequestSubmitted.v1', subject: 'request-r1', name: 'RequestSubmitted', data: { requestId: 'r1', beneficiaryId: 'ada' } }))).toBe('ada');
    expect(identityOf(event({ type: 'custos.request.BreakGlassUsed.v1', subject: 'break-glass-b1', name: 'BreakGlassUsed', data: { breakGlassId: 'b1', identityId: 'bob' } }))).toBe('bob');
    // A field named like an identity on an event whose contract does not say so is not guessed at.
    expect(identityOf(event({ type: 'custos.request.DecisionRecorded.v1', subject: 'request-r1', name: 'DecisionRecorded', data: { beneficiaryId: 'ada', identityId: 'x' } }))).toBeNull();
    // The privileged context: who checked an account out, whose just-in-time account it is; a target concerns nobody.
    expect(identityOf(event({ type: 'custos.privileged.VaultAccountCheckedOut.v1', subject: 'vault-account-pg', name: 'VaultAccountCheckedOut', data: { identityId: 'cy' } }))).toBe('cy');
    expect(identityOf(event({ type: 'custos.privileged.TargetRegistered.v1', subject: 'target-pg', name: 'TargetRegistered', data: { identityId: 'x' } }))).toBeNull();
    // The gateway: every event of a session is filed under the person whose session it is; a refused attempt under nobody.
    expect(identityOf(event({ type: 'custos.gateway.StatementsRecorded.v1', subject: 'session-s1', name: 'StatementsRecorded', data: { sessionId: 's1', identityId: 'dee', statements: [] } }))).toBe('dee');
    expect(identityOf(event({ type: 'custos.gateway.SessionRefused.v1', subject: 'session-s2', name: 'SessionRefused', data: { sessionId: 's2', user: 'dee' } }))).toBeNull();
    // A context the audit log does not know (or a type that names none) concerns nobody, whatever its fields.
    expect(identityOf(event({ type: 'custos.__proto__.X.v1', subject: 'x', name: 'X', data: { identityId: 'x' } }))).toBeNull();
  });
});
