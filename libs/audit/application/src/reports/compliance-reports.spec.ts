import { createPgDatabase, SqlDatabase } from '@custos/platform/event-store';
import { createTestDatabase } from '@custos/platform/testing';
import { AuditLog } from '../read-models/audit-log/audit-log';
import {
  accessTerminated,
  breakGlassEvents,
  breakGlassReviewed,
  entitlementDefined,
  granted,
  hired,
  requestEvents,
  revoked,
  sodExceptionRecorded,
  sodPolicyDefined,
  stored,
  terminated,
} from '../testing/builders';
import { ComplianceReports } from './compliance-reports';

const d = (day: number, hour = 9) => `2026-02-${String(day).padStart(2, '0')}T${String(hour).padStart(2, '0')}:00:00.000Z`;
const at = (day: number, hour = 9) => new Date(d(day, hour));
const NOW = at(28);

/**
 * The compliance reports from the events, against a real PostgreSQL. Ada holds pay:approve and
 * pay:create (an SoD conflict, excepted by Sec) and erp:admin (privileged, approved by Max); Bob
 * left on the 5th and lost his vpn an hour later; Cy left on the 10th, told on the 12th (a
 * backdated leaver), and still holds wiki; Dee broke the glass on db:root on the 20th.
 */
describe('compliance reports', () => {
  let db: SqlDatabase;
  let drop: () => Promise<void>;
  let reports: ComplianceReports;

  beforeAll(async () => {
    const database = await createTestDatabase('custos_audit_reports');
    drop = database.drop;
    db = createPgDatabase(database.url);
    const log = new AuditLog(db);
    await log.migrate();
    reports = new ComplianceReports(db);
    await log.recordBatch([
      entitlementDefined('erp:admin', d(1), { privileged: true, risk: 'critical' }),
      entitlementDefined('db:root', d(1), { privileged: false, breakGlass: true }),
      stored('entitlement', 'EntitlementChanged', 'entitlement-db:root', d(1, 10), { key: 'db:root', changes: { privileged: true, risk: 'high' }, changedAt: d(1, 10), changedBy: 'admin' }),
      sodPolicyDefined('pay', d(1), ['pay:create'], ['pay:approve']),
      ...['ada', 'bob', 'cy', 'dee'].map((who) => hired(who, d(1))),
    ]);
    await log.recordBatch([
      granted('ada', d(2), { grantId: 'a1', entitlement: 'pay:create' }),
      granted('ada', d(3), { grantId: 'a2', entitlement: 'pay:approve' }),
      sodExceptionRecorded('ada', d(3), 'a2', 'pay:approve', 'sec'),
      ...requestEvents('r1', 'ada', 'max', d(3), d(3, 10), 'erp:admin'),
      granted('ada', d(3, 11), { grantId: 'a3', entitlement: 'erp:admin', source: 'request', requestId: 'r1', expiresAt: d(3, 19) }),
      granted('bob', d(2), { grantId: 'b1', entitlement: 'vpn' }),
      granted('cy', d(2), { grantId: 'c1', entitlement: 'wiki' }),
    ]);
    await log.recordBatch([terminated('bob', d(5), d(5)), accessTerminated('bob', d(5, 10)), revoked('bob', d(5, 10), 'b1', 'vpn')]);
    await log.recordBatch([terminated('cy', d(10), d(12)), accessTerminated('cy', d(12))]);
    await log.recordBatch([
      ...breakGlassEvents('bg1', 'dee', 'db:root', d(20), d(20, 10), d(21)),
      granted('dee', d(20), { grantId: 'd1', entitlement: 'db:root', source: 'break-glass', requestId: 'bg1', expiresAt: d(20, 10) }),
      ...breakGlassEvents('bg2', 'dee', 'db:root', d(22), d(22, 10), d(23)),
      breakGlassReviewed('bg2', 'sec', d(22, 12), 'not-justified'),
    ]);
  });

  afterAll(async () => {
    await db.close();
    await drop();
  });

  it('lists SoD violations now and over a period, with the exception and its approver', async () => {
    const now = await reports.sodViolations({ at: NOW }, NOW);
    expect(now.items).toEqual([
      expect.objectContaining({ policyKey: 'pay', identityId: 'ada', left: { grantId: 'a1', entitlement: 'pay:create' }, right: { grantId: 'a2', entitlement: 'pay:approve' }, since: d(3) }),
    ]);
    expect(now.items[0].exception).toMatchObject({ grantId: 'a2', approvedBy: 'sec', reason: 'month end' });
    expect((await reports.sodViolations({ from: at(1), to: at(3) }, NOW)).items).toEqual([]);
    expect((await reports.sodViolations({ from: at(1), to: at(4) }, NOW)).items).toHaveLength(1);
  });

  it('lists privileged access, by the catalog as changed, with expiry and approvers', async () => {
    const during = await reports.privilegedAccess({ at: at(3, 12) }, NOW);
    expect(during.items).toEqual([expect.objectContaining({ identityId: 'ada', entitlement: 'erp:admin', risk: 'critical', expiresAt: d(3, 19), approvers: ['max'], requestId: 'r1' })]);
    expect((await reports.privilegedAccess({ at: NOW }, NOW)).items).toEqual([]);
    const glass = await reports.privilegedAccess({ at: at(20, 9) }, NOW);
    expect(glass.items).toEqual([expect.objectContaining({ identityId: 'dee', entitlement: 'db:root', risk: 'high', source: 'break-glass' })]);
  });

  it('names who held access after their termination took effect, and for how long', async () => {
    const report = await reports.terminatedWithAccess({}, 60, NOW);
    expect(report.leavers).toBe(2);
    expect(report.items.map((i) => [i.identityId, i.grantId, i.heldFrom, i.heldUntil, i.heldSeconds])).toEqual([
      ['bob', 'b1', d(5), d(5, 10), 3600],
      ['cy', 'c1', d(10), undefined, 18 * 24 * 3600],
    ]);
    expect((await reports.terminatedWithAccess({}, 7200, NOW)).items.map((i) => i.identityId)).toEqual(['cy']);
    expect((await reports.terminatedWithAccess({ from: at(6), to: at(28) }, 0, NOW)).leavers).toBe(1);
  });

  it('measures deprovisioning per leaver and per period against the SLO', async () => {
    const report = await reports.deprovisioning({ from: at(1), to: at(28) }, 'month', 7200, NOW);
    expect(report.items.map((i) => [i.identityId, i.seconds, i.withinSlo, i.deprovisionedAt])).toEqual([
      ['bob', 3600, true, d(5, 10)],
      ['cy', 18 * 24 * 3600, false, undefined],
    ]);
    expect(report.outsideSlo.map((i) => i.identityId)).toEqual(['cy']);
    expect(report.periods).toEqual([{ period: '2026-02-01T00:00:00.000Z', leavers: 2, deprovisioned: 1, p50: 3600, p95: 3600, p99: 3600, outsideSlo: 1 }]);
  });

  it('lists just-in-time grants and break-glass uses with the state of their reviews', async () => {
    const report = await reports.jitUsage({ from: at(1), to: at(28) }, NOW);
    expect(report.items.map((i) => [i.kind, i.identityId, i.entitlement, i.review?.state])).toEqual([
      ['just-in-time', 'ada', 'erp:admin', undefined],
      ['break-glass', 'dee', 'db:root', 'overdue'],
      ['break-glass', 'dee', 'db:root', 'not-justified'],
    ]);
    expect(report.items[2].review).toMatchObject({ reviewerId: 'sec', reviewedAt: d(22, 12) });
  });
});
