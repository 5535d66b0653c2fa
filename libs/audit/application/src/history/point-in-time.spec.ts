import { createPgDatabase, CustosEvent, SqlDatabase } from '@custos/platform/event-store';
import { createTestDatabase } from '@custos/platform/testing';
import { AuditLog } from '../read-models/audit-log/audit-log';
import { accessTerminated, granted, hired, rehired, requestEvents, revoked, sodExceptionRecorded, terminated } from '../testing/builders';
import { AccessHistory } from './access-history';
import { PointInTime } from './point-in-time';

const d = (day: number, hour = 9) => `2026-01-${String(day).padStart(2, '0')}T${String(hour).padStart(2, '0')}:00:00.000Z`;
const at = (day: number, hour = 9) => new Date(d(day, hour));
const NOW = at(31);

/** Every row of the history's tables, in a stable order: what a rebuild must give again. */
export async function historyRows(db: SqlDatabase, schema = 'audit'): Promise<Record<string, unknown[]>> {
  const dump: Record<string, unknown[]> = {};
  for (const table of AccessHistory.TABLES) {
    const { rows } = await db.query(`SELECT to_jsonb(t) AS row FROM ${schema}.${table} t ORDER BY to_jsonb(t)::text`);
    dump[table] = rows.map((r) => (r as { row: unknown }).row);
  }
  return dump;
}

/**
 * Point-in-time access from the audit log, against a real PostgreSQL: Ada is hired on the 1st
 * (birthright repo:read), gets erp:admin through a request approved by Max on the 2nd, and is a
 * backdated leaver: HR said on the 15th that she left on the 10th, and her access went on the 15th.
 */
describe('point in time: what was held then, and what Custos knew then', () => {
  let db: SqlDatabase;
  let drop: () => Promise<void>;
  let log: AuditLog;
  let view: PointInTime;
  let hire: CustosEvent;
  const deprovisioned: unknown[] = [];

  beforeAll(async () => {
    const database = await createTestDatabase('custos_audit_pit');
    drop = database.drop;
    db = createPgDatabase(database.url);
    log = new AuditLog(db);
    log.onDeprovisioned = (leavers) => deprovisioned.push(...leavers);
    await log.migrate();
    view = new PointInTime(db);
    hire = hired('ada', d(1));
    await log.recordBatch([hire]);
    await log.recordBatch([
      granted('ada', d(1, 10), { grantId: 'g-repo', entitlement: 'repo:read', source: 'birthright', role: 'eng', ruleKey: 'engineering' }, { causationid: hire.id, actor: 'system:identity-lifecycle' }),
      ...requestEvents('r1', 'ada', 'max', d(2), d(2, 11), 'erp:admin'),
    ]);
    await log.recordBatch([
      granted('ada', d(2, 12), { grantId: 'g-erp', entitlement: 'erp:admin', source: 'request', requestId: 'r1' }),
      sodExceptionRecorded('ada', d(2, 12), 'g-erp', 'erp:admin', 'sec'),
    ]);
    await log.recordBatch([terminated('ada', d(10), d(15))]);
    expect(deprovisioned).toEqual([]);
    await log.recordBatch([accessTerminated('ada', d(15)), revoked('ada', d(15), 'g-repo', 'repo:read'), revoked('ada', d(15), 'g-erp', 'erp:admin')]);
  });

  afterAll(async () => {
    await db.close();
    await drop();
  });

  it('answers the grants held at an instant, each with its reason chain', async () => {
    const answer = await view.accessAt('ada', { at: at(5) }, NOW);
    expect(answer.identity).toMatchObject({ status: 'active', change: 'hired', since: d(1) });
    expect(answer.grants.map((g) => [g.entitlement, g.heldAfterTermination])).toEqual([['repo:read', false], ['erp:admin', false]]);
    const [repo, erp] = answer.grants;
    expect(repo).toMatchObject({ source: 'birthright', role: 'eng', ruleKey: 'engineering', revokedAt: d(15), revokeReason: 'leaver' });
    expect(repo.why.cause).toMatchObject({ eventId: hire.id, name: 'IdentityHired', hr: { system: 'workday', eventId: 'wd-hire-ada', channel: 'webhook' } });
    expect(repo.why.granted).toMatchObject({ name: 'AccessGranted', actor: 'system:identity-lifecycle' });
    expect(erp.why.request).toMatchObject({ requestId: 'r1', requesterId: 'ada', justification: 'quarter close', approvedAt: d(2, 11), approvals: [{ approverId: 'max', decidedAt: d(2, 11), comment: 'ok' }] });
    expect(erp.why.request?.evidence.map((e) => e.name)).toEqual(['RequestSubmitted', 'DecisionRecorded', 'RequestApproved']);
    expect(erp.why.sodException).toMatchObject({ approvedBy: 'sec', reason: 'month end' });
    expect(answer.logPosition).toBe(await log.history.position(db));
  });

  it('shows a backdated leaver: held after the termination took effect, as known now; not as known before HR told', async () => {
    const known = await view.accessAt('ada', { at: at(12) }, NOW);
    expect(known.identity).toMatchObject({ status: 'terminated', since: d(10) });
    expect(known.grants.map((g) => [g.entitlement, g.heldAfterTermination])).toEqual([['repo:read', true], ['erp:admin', true]]);

    const then = await view.accessAt('ada', { at: at(12), asOf: at(13) }, NOW);
    expect(then.identity).toMatchObject({ status: 'active' });
    expect(then.grants.map((g) => [g.entitlement, g.heldAfterTermination, g.revokedAt])).toEqual([['repo:read', false, undefined], ['erp:admin', false, undefined]]);
  });

  it('holds nothing after the revocations, though Custos did not know that yet before they were recorded', async () => {
    expect((await view.accessAt('ada', { at: at(16) }, NOW)).grants).toEqual([]);
    expect((await view.accessAt('ada', { at: at(16), asOf: at(14) }, NOW)).grants.map((g) => g.grantId)).toEqual(['g-repo', 'g-erp']);
    expect((await view.accessAt('ada', { at: at(1, 8) }, NOW)).grants).toEqual([]);
    expect((await view.accessAt('ada', { at: at(1, 8) }, NOW)).identity).toBeNull();
  });

  it('answers who held an entitlement at an instant and during a period', async () => {
    expect((await view.whoHadAccess('erp:admin', { at: at(2, 11) }, NOW)).holders).toEqual([]);
    const during = await view.whoHadAccess('erp:admin', { from: at(1), to: at(3) }, NOW);
    expect(during.holders.map((h) => [h.identityId, h.grants.map((g) => g.grantId)])).toEqual([['ada', ['g-erp']]]);
    expect((await view.whoHadAccess('erp:admin', { from: at(16), to: at(20) }, NOW)).holders).toEqual([]);
    expect((await view.whoHadAccess('repo:read', { from: at(14), to: at(16) }, NOW)).holders).toHaveLength(1);
  });

  it('measures the leaver’s deprovisioning once, from the termination taking effect to the last revocation', async () => {
    expect(deprovisioned).toEqual([{ identityId: 'ada', seconds: 5 * 24 * 3600 }]);
    const { rows } = await db.query<{ grants: number }>(`SELECT grants FROM audit.leavers`);
    expect(rows).toEqual([{ grants: 2 }]);
  });

  it('changes nothing when the same events are delivered again', async () => {
    const before = await historyRows(db);
    const { items } = await log.query({ limit: 100 });
    expect(await log.recordBatch(items.map((i) => i.event))).toBe(0);
    expect(await historyRows(db)).toEqual(before);
  });

  it('gives the same history when rebuilt from the log as the one kept live', async () => {
    const live = await historyRows(db);
    const progress: number[] = [];
    expect(await log.rebuildHistory((done) => progress.push(done))).toBe(11);
    expect(progress[progress.length - 1]).toBe(11);
    expect(await historyRows(db)).toEqual(live);
  });

  it('does not end a leaver’s deprovisioning before the entitlement context has revoked, nor count access after a rehire', async () => {
    const seen = deprovisioned.length;
    await log.recordBatch([hired('bob', d(1)), granted('bob', d(1), { grantId: 'g-b', entitlement: 'vpn' })]);
    await log.recordBatch([terminated('bob', d(20), d(20))]);
    await log.recordBatch([accessTerminated('bob', d(20, 10))]);
    expect(deprovisioned).toHaveLength(seen);
    await log.recordBatch([revoked('bob', d(20, 11), 'g-b', 'vpn'), rehired('bob', d(25))]);
    expect(deprovisioned.slice(seen)).toEqual([{ identityId: 'bob', seconds: 2 * 3600 }]);
    await log.recordBatch([granted('bob', d(25), { grantId: 'g-b2', entitlement: 'vpn' })]);
    expect((await view.accessAt('bob', { at: at(26) }, NOW)).grants.map((g) => [g.grantId, g.heldAfterTermination])).toEqual([['g-b2', false]]);
  });

  it('records an event whose times are malformed without failing the append, and takes no fact from it', async () => {
    const odd = [
      granted('eve', '2026-01-29T09:00:00.123456789Z', { grantId: 'e-ok', entitlement: 'vpn' }),
      { ...granted('eve', d(2), { grantId: 'e-bad', entitlement: 'vpn' }), data: { identityId: 'eve', grantId: 'e-bad', entitlement: 'vpn', source: 'admin', grantedAt: '2026-02-30T00:00:00Z' } },
      { ...granted('eve', d(2), { grantId: 'e-word', entitlement: 'vpn' }), data: { identityId: 'eve', grantId: 'e-word', entitlement: 'vpn', source: 'admin', grantedAt: 'yesterday' } },
      { ...granted('eve', d(2), { grantId: 'e-num', entitlement: 'vpn' }), data: { identityId: 'eve', grantId: '', entitlement: 'vpn', source: 'admin', grantedAt: d(2) } },
    ];
    expect(await log.recordBatch(odd)).toBe(4);
    const { rows } = await db.query<{ grant_id: string; granted_at: Date }>(`SELECT grant_id, granted_at FROM audit.grants WHERE identity_id = 'eve'`);
    expect(rows.map((r) => [r.grant_id, r.granted_at.toISOString()])).toEqual([['e-ok', '2026-01-29T09:00:00.123Z']]);
    expect(await log.verify()).toMatchObject({ ok: true });
  });
});
