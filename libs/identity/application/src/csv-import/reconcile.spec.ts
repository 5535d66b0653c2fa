import type { EmployeeRecord } from '@custos/identity/contracts';
import { CurrentIdentity, planChanges, reconcile, ReconcileOptions, toHrEvent } from './reconcile';
import type { SnapshotRow } from './snapshot';

const employee = (id: string, over: Partial<EmployeeRecord> = {}): EmployeeRecord => ({
  employeeId: id,
  givenName: `Given${id}`,
  familyName: `Family${id}`,
  email: `${id.toLowerCase()}@example.com`,
  department: 'Engineering',
  employmentType: 'employee',
  ...over,
});
const identity = (id: string, over: Partial<CurrentIdentity> = {}): CurrentIdentity => ({ ...employee(id), identityId: `id-${id}`, status: 'active', version: 1, systemOfRecord: 'csv', ...over });
/** An identity that the workday webhook hired. */
const workday = (id: string, over: Partial<CurrentIdentity> = {}): CurrentIdentity => identity(id, { systemOfRecord: 'workday', ...over });
const row = (line: number, id: string, over: Partial<EmployeeRecord> = {}): SnapshotRow => ({ line, employee: employee(id, over) });
const options = (over: Partial<ReconcileOptions> = {}): ReconcileOptions => ({ system: 'csv', allowLeavers: false, force: false, thresholdPercent: 5, ...over });

/** Twenty active identities E01..E20, all in the file unchanged unless a case says otherwise. */
const staff = Array.from({ length: 20 }, (_, i) => `E${String(i + 1).padStart(2, '0')}`);
const everyone = staff.map((id) => identity(id));
const allRows = staff.map((id, i) => row(i + 2, id));

type Summary = { joiners: string[]; rehires: string[]; movers: string[]; leavers: string[]; missing: string[]; otherSystems: string[]; unchanged: number; blocked: boolean };
const summary = (plan: ReturnType<typeof reconcile>): Summary => ({
  joiners: plan.joiners.map((c) => c.employee.employeeId),
  rehires: plan.rehires.map((c) => c.employee.employeeId),
  movers: plan.movers.map((c) => `${c.employee.employeeId}:${c.changes.map((d) => d.field).join('+')}`),
  leavers: plan.leavers.map((c) => c.employee.employeeId),
  missing: plan.missing.map((c) => c.employee.employeeId),
  otherSystems: plan.otherSystems.map((c) => `${c.employee.employeeId}:${c.systemOfRecord ?? '?'}`),
  unchanged: plan.unchanged,
  blocked: plan.blocked !== undefined,
});
const none: Summary = { joiners: [], rehires: [], movers: [], leavers: [], missing: [], otherSystems: [], unchanged: 0, blocked: false };
const five = staff.slice(0, 5);

describe('reconcile (a full HR export against the identities Custos holds)', () => {
  it.each<[string, CurrentIdentity[], SnapshotRow[], Partial<ReconcileOptions>, Partial<Summary>]>([
    ['an empty Custos: every row is a joiner', [], [row(2, 'E1'), row(3, 'E2')], {}, { joiners: ['E1', 'E2'] }],
    ['the same file again: nothing to do', everyone, allRows, {}, { unchanged: 20 }],
    ['a changed department and title: a mover naming both fields', everyone, [...allRows.slice(1), row(2, 'E01', { department: 'Sales', title: 'AE' })], {}, { movers: ['E01:department+title'], unchanged: 19 }],
    ['a cleared optional cell is a change too', [identity('E1', { location: 'London' })], [row(2, 'E1')], {}, { movers: ['E1:location'] }],
    ['a new manager by employee id', [identity('E1'), identity('E2')], [row(2, 'E1'), row(3, 'E2', { managerEmployeeId: 'E1' })], {}, { movers: ['E2:managerEmployeeId'], unchanged: 1 }],
    ['a missing row without --allow-leavers: reported, not a leaver', everyone, allRows.slice(1), {}, { missing: ['E01'], unchanged: 19 }],
    ['a missing row with --allow-leavers, below the threshold: a leaver', everyone, allRows.slice(1), { allowLeavers: true }, { leavers: ['E01'], unchanged: 19 }],
    ['two of twenty missing (10% > 5%): blocked', everyone, allRows.slice(2), { allowLeavers: true }, { leavers: ['E01', 'E02'], unchanged: 18, blocked: true }],
    ['two of twenty missing with --force: leavers', everyone, allRows.slice(2), { allowLeavers: true, force: true }, { leavers: ['E01', 'E02'], unchanged: 18 }],
    ['two of twenty missing with --threshold 10: leavers (at the threshold is not above it)', everyone, allRows.slice(2), { allowLeavers: true, thresholdPercent: 10 }, { leavers: ['E01', 'E02'], unchanged: 18 }],
    ['an empty export with --allow-leavers: blocked', everyone, [], { allowLeavers: true }, { leavers: staff, blocked: true }],
    ['a terminated identity back in the file: a rehire', [identity('E1', { status: 'terminated' })], [row(2, 'E1')], {}, { rehires: ['E1'] }],
    ['a terminated identity not in the file: nothing', [identity('E1', { status: 'terminated' }), identity('E2')], [row(2, 'E2')], { allowLeavers: true, force: true }, { unchanged: 1 }],
    ['a pending (future) joiner not in the file: left alone', [identity('E1', { status: 'pending' }), identity('E2')], [row(2, 'E2')], { allowLeavers: true, force: true }, { unchanged: 1 }],
    ['a reused employee id: the live identity is compared', [identity('E1', { identityId: 'old', status: 'terminated' }), identity('E1', { identityId: 'new' })], [row(2, 'E1')], {}, { unchanged: 1 }],
    // An export speaks only for its own system.
    ['a workday identity missing from a csv export, with --allow-leavers --force: not a leaver', [...everyone, workday('W1')], allRows, { allowLeavers: true, force: true }, { unchanged: 20 }],
    ['every workday identity missing from an empty csv export: not even reported missing', [workday('W1'), workday('W2')], [], { allowLeavers: true }, {}],
    ['a row about a workday identity: reported and left alone, even when it differs', [identity('E1'), workday('W1')], [row(2, 'E1'), row(3, 'W1', { department: 'Sales' })], {}, { otherSystems: ['W1:workday'], unchanged: 1 }],
    ['a row about a terminated workday identity: left alone, not a rehire', [workday('W1', { status: 'terminated' })], [row(2, 'W1')], {}, { otherSystems: ['W1:workday'] }],
    ['an identity whose system Custos does not name: left alone', [identity('E1', { systemOfRecord: undefined }), identity('E2', { systemOfRecord: undefined })], [row(2, 'E1')], { allowLeavers: true, force: true }, { otherSystems: ['E1:?'] }],
    ['the same export as --system workday reconciles the workday identities only', [identity('E1'), workday('W1'), workday('W2')], [row(2, 'W1')], { system: 'workday', allowLeavers: true }, { leavers: ['W2'], unchanged: 1 }],
    // The threshold applies from twenty active identities of the system.
    ['two of five missing (40%) with --allow-leavers: leavers without --force below twenty identities', five.map((id) => identity(id)), allRows.slice(2, 5), { allowLeavers: true }, { leavers: ['E01', 'E02'], unchanged: 3 }],
    ['two of five missing without --allow-leavers: still only reported', five.map((id) => identity(id)), allRows.slice(2, 5), {}, { missing: ['E01', 'E02'], unchanged: 3 }],
    ['nineteen of csv beside many of workday: below twenty of its own, no threshold', [...everyone.slice(0, 19), ...staff.map((id) => workday(`W${id}`))], allRows.slice(2, 19), { allowLeavers: true }, { leavers: ['E01', 'E02'], unchanged: 17 }],
    ['an empty export of five with --allow-leavers: all leavers (a trial that ended)', five.map((id) => identity(id)), [], { allowLeavers: true }, { leavers: five }],
    ['two of twenty missing with a minimum population of 25: leavers', everyone, allRows.slice(2), { allowLeavers: true, minimumPopulation: 25 }, { leavers: ['E01', 'E02'], unchanged: 18 }],
  ])('%s', (_, current, rows, opts, expected) => {
    expect(summary(reconcile(current, rows, options(opts)))).toEqual({ ...none, ...expected });
  });

  it('names the old and new value of each changed field, and counts the active identities', () => {
    const plan = reconcile([identity('E1', { location: 'London' }), identity('E2', { status: 'pending' })], [row(2, 'E1', { department: 'Sales' }), row(3, 'E2')], options());
    expect(plan.movers).toEqual([
      {
        type: 'mover',
        line: 2,
        identityId: 'id-E1',
        version: 1,
        employee: employee('E1', { department: 'Sales' }),
        changes: [
          { field: 'department', from: 'Engineering', to: 'Sales' },
          { field: 'location', from: 'London' },
        ],
      },
    ]);
    expect(plan.active).toBe(1);
    expect(plan.pendingNotInFile).toBe(0);
  });

  it('explains a blocked import and how to go on', () => {
    const plan = reconcile(everyone, allRows.slice(3), options({ allowLeavers: true }));
    expect(plan.blocked).toBe('3 leavers are 15.0% of the 20 active identities of csv, above the threshold of 5%: check that the export is complete, then run again with --force (or raise --threshold)');
  });

  it('sends managers who join in the same file before their reports, then rehires, movers and leavers', () => {
    const plan = reconcile(
      [identity('L1'), identity('M1'), identity('R1', { status: 'terminated' })],
      [row(2, 'C', { managerEmployeeId: 'B' }), row(3, 'B', { managerEmployeeId: 'A' }), row(4, 'A', { managerEmployeeId: 'OUTSIDE' }), row(5, 'D'), row(6, 'M1', { title: 'Lead' }), row(7, 'R1'), row(8, 'X', { managerEmployeeId: 'Y' }), row(9, 'Y', { managerEmployeeId: 'X' })],
      options({ allowLeavers: true, force: true }),
    );
    const waves = planChanges(plan).map((w) => w.map((c) => `${c.type}:${c.employee.employeeId}`));
    expect(waves).toEqual([['joiner:A', 'joiner:D', 'joiner:Y'], ['joiner:B', 'joiner:X'], ['joiner:C'], ['rehire:R1', 'mover:M1', 'leaver:L1']]);
  });

  describe('event ids', () => {
    const at = '2026-05-01T00:00:00.000Z';
    const joiner = reconcile([], [row(2, 'E1')], options()).joiners[0];
    const mover = (version: number, department: string) => reconcile([identity('E1', { version })], [row(2, 'E1', { department })], options()).movers[0];

    it('are the same when the same file is imported again', () => {
      expect(toHrEvent(joiner, 'csv', at)).toEqual({ eventId: expect.stringMatching(/^csv:[0-9a-f]{64}$/), system: 'csv', type: 'joiner', effectiveAt: at, employee: employee('E1') });
      expect(toHrEvent(joiner, 'csv', '2027-01-01T00:00:00.000Z').eventId).toBe(toHrEvent(joiner, 'csv', at).eventId);
      expect(toHrEvent(mover(3, 'Sales'), 'csv', at).eventId).toBe(toHrEvent(mover(3, 'Sales'), 'csv', at).eventId);
    });

    it.each([
      ['another system', toHrEvent(joiner, 'workday', at).eventId],
      ['another record', toHrEvent(reconcile([], [row(2, 'E1', { title: 'x' })], options()).joiners[0], 'csv', at).eventId],
      ['the same move from a later version (moved back and forth)', toHrEvent(mover(5, 'Sales'), 'csv', at).eventId],
    ])('differ for %s', (_, id) => {
      expect(id).not.toBe(toHrEvent(joiner, 'csv', at).eventId);
      expect(id).not.toBe(toHrEvent(mover(3, 'Sales'), 'csv', at).eventId);
    });
  });
});
