import { createPgDatabase, SqlDatabase, SqlEventStore } from '@custos/platform/event-store';
import { InProcessBus } from '@custos/platform/messaging';
import { ContextRuntime, createLogger, DurableScheduler, migrateContext, readConfig } from '@custos/platform/runtime';
import { createTestDatabase } from '@custos/platform/testing';
import { identityStreamId } from '@custos/identity/contracts';
import { IdentityNotFound, InvalidLifecycleTransition } from '@custos/identity/domain';
import { EmployeeDirectory } from './employee-directory';
import { HrChange, ReceivedHrChange } from './hr-change';
import { HrIntake, SCHEDULED_ACTIVATION, SCHEDULED_HR_CHANGE } from './hr-intake';

/** HR intake against a real PostgreSQL: once per (system, eventId), all or nothing, on its date. */
describe('HR intake', () => {
  let db: SqlDatabase;
  let drop: () => Promise<void>;
  let runtime: ContextRuntime;
  let intake: HrIntake;
  let scheduler: DurableScheduler;
  let now = new Date('2026-11-22T10:00:00Z');
  let seq = 0;

  const change = (over: Partial<Omit<HrChange, 'employee'>> & { employee?: Partial<HrChange['employee']> } = {}): HrChange => {
    seq += 1;
    return {
      eventId: `evt-${seq}`,
      system: 'workday',
      type: 'joiner',
      effectiveAt: '2026-11-01T09:00:00Z',
      channel: 'webhook',
      ...over,
      employee: { employeeId: 'E1', givenName: 'Ada', familyName: 'Lovelace', email: 'ada@example.com', department: 'Engineering', employmentType: 'employee', ...over.employee },
    };
  };
  const streamOf = async (identityId: string) => (await runtime.store.readStream(identityStreamId(identityId))).map((e) => e.name);
  const runScheduler = () => scheduler.runDue();

  beforeEach(async () => {
    const database = await createTestDatabase('custos_hr');
    drop = database.drop;
    db = createPgDatabase(database.url);
    const store = await SqlEventStore.open(db, { context: 'identity', schema: 'identity' });
    runtime = { context: 'identity', db, store, bus: new InProcessBus(), clock: () => now, logger: createLogger(readConfig({}), 'test'), publicUrl: 'http://localhost:3000' };
    const directory = new EmployeeDirectory(db, 'identity');
    scheduler = new DurableScheduler(db, 'identity', () => now);
    intake = new HrIntake(runtime, directory, scheduler);
    await migrateContext(db, 'identity', [(x) => directory.migrate(x), (x) => intake.migrate(x), (x) => scheduler.migrate(x)]);
    scheduler.use({
      [SCHEDULED_HR_CHANGE]: async (payload, tx) => {
        const p = payload as { change: HrChange; identityId: string };
        await intake.apply(tx, p.change, p.identityId, { actor: 'hr:test' });
      },
      [SCHEDULED_ACTIVATION]: async (payload, tx) => intake.activate(tx, (payload as { identityId: string }).identityId, { actor: 'system:scheduler' }),
    });
    now = new Date('2026-11-22T10:00:00Z');
    // A new database and its migrations: far past the 5 s default on a loaded 2-core machine.
  }, 60_000);

  afterEach(async () => {
    await runtime.store.close();
    await runtime.bus.close();
    await db.close();
    await drop();
  }, 60_000);

  it('applies a joiner once; the same (system, eventId) again is a duplicate with the first answer', async () => {
    const joiner = change();
    const first = await intake.receive(joiner);
    expect(first.status).toBe('applied');
    expect(await intake.receive(joiner)).toEqual({ identityId: first.identityId, status: 'duplicate' });
    expect(await streamOf(first.identityId)).toEqual(['IdentityHired']);
  });

  it('applies a change without effectiveAt when it is received; a repeat received later is a duplicate, not a new change', async () => {
    const joiner: ReceivedHrChange = { ...change(), effectiveAt: undefined };
    const first = await intake.receive(joiner);
    expect(first.status).toBe('applied');
    const [hired] = await runtime.store.readStream(identityStreamId(first.identityId));
    expect(hired.data).toMatchObject({ effectiveAt: '2026-11-22T10:00:00.000Z', recordedAt: '2026-11-22T10:00:00.000Z' });
    now = new Date('2026-11-22T11:00:00Z');
    expect(await intake.receive({ ...joiner })).toEqual({ identityId: first.identityId, status: 'duplicate' });
    // null, as a JSON sender may write it, is left out too
    const mover: ReceivedHrChange = { ...change({ type: 'mover', employee: { department: 'Sales' } }), effectiveAt: null };
    expect(await intake.receive(mover)).toEqual({ identityId: first.identityId, status: 'applied' });
    now = new Date('2026-11-22T12:00:00Z');
    expect(await intake.receive({ ...mover })).toEqual({ identityId: first.identityId, status: 'duplicate' });
    const stream = await runtime.store.readStream(identityStreamId(first.identityId));
    expect(stream.map((e) => e.name)).toEqual(['IdentityHired', 'IdentityMoved']);
    expect(stream[1].data).toMatchObject({ effectiveAt: '2026-11-22T11:00:00.000Z' });
  });

  it('applies one of ten identical requests arriving at once', async () => {
    const joiner = change();
    const outcomes = await Promise.all(Array.from({ length: 10 }, () => intake.receive({ ...joiner })));
    expect(outcomes.filter((o) => o.status === 'applied')).toHaveLength(1);
    expect(outcomes.filter((o) => o.status === 'duplicate')).toHaveLength(9);
    expect(new Set(outcomes.map((o) => o.identityId)).size).toBe(1);
    expect(await streamOf(outcomes[0].identityId)).toEqual(['IdentityHired']);
  });

  it('refuses a mover for an unknown employee and writes nothing, not even the dedupe record', async () => {
    const mover = change({ type: 'mover', employee: { employeeId: 'E404' } });
    await expect(intake.receive(mover)).rejects.toBeInstanceOf(IdentityNotFound);
    const { rows } = await db.query('SELECT * FROM identity.hr_inbox');
    expect(rows).toHaveLength(0);
    const all = await runtime.store.readAll({ tx: '0', pos: '0' }, 100);
    expect(all.events).toHaveLength(0);
  });

  it('keeps newer data when an older mover arrives late, and records it as superseded', async () => {
    const { identityId } = await intake.receive(change({ effectiveAt: '2026-10-01T00:00:00Z' }));
    await intake.receive(change({ type: 'mover', effectiveAt: '2026-11-10T00:00:00Z', employee: { department: 'Sales' } }));
    await intake.receive(change({ type: 'mover', effectiveAt: '2026-11-05T00:00:00Z', employee: { department: 'Finance' } }));
    expect(await streamOf(identityId)).toEqual(['IdentityHired', 'IdentityMoved', 'IdentityChangeSuperseded']);
    const moved = (await runtime.store.readStream(identityStreamId(identityId)))[1];
    expect((moved.data as { identity: { department: string } }).identity.department).toBe('Sales');
  });

  it('terminates on a backdated leaver', async () => {
    const { identityId } = await intake.receive(change({ effectiveAt: '2026-10-01T00:00:00Z' }));
    const leaver = await intake.receive(change({ type: 'leaver', effectiveAt: '2026-11-21T17:00:00Z' }));
    expect(leaver).toEqual({ identityId, status: 'applied' });
    expect(await streamOf(identityId)).toEqual(['IdentityHired', 'IdentityTerminated']);
  });

  it('schedules a future joiner as pending and activates it on its start date, exactly once', async () => {
    const { identityId, status } = await intake.receive(change({ effectiveAt: '2026-12-01T09:00:00Z' }));
    expect(status).toBe('scheduled');
    expect(await runScheduler()).toBe(0);
    now = new Date('2026-12-01T09:00:01Z');
    expect(await runScheduler()).toBe(1);
    expect(await runScheduler()).toBe(0);
    expect(await streamOf(identityId)).toEqual(['IdentityHired', 'IdentityActivated']);
  });

  it('lets a later HR change supersede a scheduled one', async () => {
    const { identityId } = await intake.receive(change({ effectiveAt: '2026-10-01T00:00:00Z' }));
    expect((await intake.receive(change({ type: 'mover', effectiveAt: '2026-12-15T00:00:00Z', employee: { department: 'Sales' } }))).status).toBe('scheduled');
    expect((await intake.receive(change({ type: 'leaver', effectiveAt: '2026-12-20T00:00:00Z' }))).status).toBe('scheduled');
    now = new Date('2027-01-01T00:00:00Z');
    expect(await runScheduler()).toBe(1);
    expect(await streamOf(identityId)).toEqual(['IdentityHired', 'IdentityTerminated']);
  });

  it('links a report to a manager who joins after them', async () => {
    const report = await intake.receive(change({ employee: { employeeId: 'E2', email: 'r@example.com', managerEmployeeId: 'E9' } }));
    const manager = await intake.receive(change({ employee: { employeeId: 'E9', email: 'm@example.com' } }));
    expect(await streamOf(report.identityId)).toEqual(['IdentityHired', 'ManagerLinked']);
    const linked = (await runtime.store.readStream(identityStreamId(report.identityId)))[1];
    expect((linked.data as { managerId: string }).managerId).toBe(manager.identityId);
  });

  it('links every report when managers and their reports join at the same moment', async () => {
    const pairs = Array.from({ length: 12 }, (_, i) => i);
    const outcomes = await Promise.all(
      pairs.flatMap((i) => [
        intake.receive(change({ employee: { employeeId: `R${i}`, email: `r${i}@example.com`, managerEmployeeId: `M${i}` } })),
        intake.receive(change({ employee: { employeeId: `M${i}`, email: `m${i}@example.com` } })),
      ]),
    );
    for (const i of pairs) {
      const [report, manager] = [outcomes[2 * i], outcomes[2 * i + 1]];
      const events = await runtime.store.readStream(identityStreamId(report.identityId));
      const managerIds = events.map((e) => (e.data as { identity: { managerId?: string } }).identity.managerId).filter(Boolean);
      expect(managerIds).toContain(manager.identityId);
    }
  });

  describe('group commit', () => {
    /** Counts the transactions the intake opens, to see changes share one. */
    const countTransactions = () => {
      const spy = jest.spyOn(db, 'transaction');
      return () => spy.mock.calls.length;
    };

    it('gives every change of a concurrent group the outcome it would have alone, in fewer transactions', async () => {
      const e1 = await intake.receive(change({ employee: { employeeId: 'E1' } }));
      const e2Hire = change({ employee: { employeeId: 'E2', email: 'e2@example.com' } });
      const e2 = await intake.receive(e2Hire);
      const e3 = await intake.receive(change({ employee: { employeeId: 'E3', email: 'e3@example.com' } }));
      const transactions = countTransactions();
      const settled = await Promise.allSettled([
        intake.receive(change({ employee: { employeeId: 'E10', email: 'e10@example.com' } })),
        intake.receive(change({ type: 'mover', employee: { employeeId: 'E1', department: 'Sales' } })),
        intake.receive(change({ type: 'leaver', employee: { employeeId: 'E2', email: 'e2@example.com' } })),
        intake.receive(change({ type: 'mover', employee: { employeeId: 'E404' } })),
        intake.receive(e2Hire),
        intake.receive(change({ type: 'rehire', employee: { employeeId: 'E3', email: 'e3@example.com' } })),
        intake.receive(change({ employee: { employeeId: 'E11', email: 'e11@example.com', managerEmployeeId: 'E1' } })),
        // Entangled with the mover of E1 above: runs after the group, alone, and sees its effect.
        intake.receive(change({ type: 'mover', employee: { employeeId: 'E1', department: 'Legal' } })),
        intake.receive(change({ type: 'mover', effectiveAt: '2027-02-01T00:00:00Z', employee: { employeeId: 'E10', email: 'e10@example.com', department: 'Sales' } })),
      ]);
      const value = (i: number) => (settled[i] as PromiseFulfilledResult<{ identityId: string; status: string }>).value;
      const reason = (i: number) => (settled[i] as PromiseRejectedResult).reason;
      expect(value(0).status).toBe('applied');
      expect(value(1)).toEqual({ identityId: e1.identityId, status: 'applied' });
      expect(value(2)).toEqual({ identityId: e2.identityId, status: 'applied' });
      expect(reason(3)).toBeInstanceOf(IdentityNotFound);
      expect(value(4)).toEqual({ identityId: e2.identityId, status: 'duplicate' });
      expect(reason(5)).toBeInstanceOf(InvalidLifecycleTransition);
      expect(value(6).status).toBe('applied');
      expect(value(7)).toEqual({ identityId: e1.identityId, status: 'applied' });
      expect(value(8)).toEqual({ identityId: value(0).identityId, status: 'scheduled' });
      // The first change runs alone at once; the eight that arrived meanwhile share one more
      // transaction, but for the three that touch an employee already in that group (E1's second
      // mover, E2's repeated joiner, E10's mover), which follow it one by one.
      expect(transactions()).toBe(5);

      expect(await streamOf(e1.identityId)).toEqual(['IdentityHired', 'IdentityMoved', 'IdentityMoved']);
      const last = (await runtime.store.readStream(identityStreamId(e1.identityId)))[2];
      expect((last.data as { identity: { department: string } }).identity.department).toBe('Legal');
      expect(await streamOf(e2.identityId)).toEqual(['IdentityHired', 'IdentityTerminated']);
      expect(await streamOf(e3.identityId)).toEqual(['IdentityHired']);
      const report = (await runtime.store.readStream(identityStreamId(value(6).identityId)))[0];
      expect((report.data as { identity: { managerId?: string } }).identity.managerId).toBe(e1.identityId);
      const { rows } = await db.query<{ event_id: string; status: string }>('SELECT event_id, status FROM identity.hr_inbox ORDER BY event_id');
      // Refused changes leave no dedupe record: sent again, they are judged again.
      expect(rows).toHaveLength(3 + 6);
      expect((await scheduler.pending('hr:')).map((j) => j.key)).toEqual([`hr:${value(0).identityId}`]);
    });

    it('writes the directory entries a group changes and leaves the others untouched', async () => {
      const boss = await intake.receive(change({ employee: { employeeId: 'B1', email: 'b1@example.com' } }));
      for (const id of ['A1', 'A2', 'A3', 'A4']) await intake.receive(change({ employee: { employeeId: id, email: `${id}@example.com` } }));
      const directory = async () =>
        new Map((await db.query<{ employee_id: string; manager_id: string | null; xmin: string }>('SELECT employee_id, manager_id, xmin::text FROM identity.employee_directory')).rows.map((r) => [r.employee_id, r]));
      const before = await directory();
      const transactions = countTransactions();
      await Promise.all([
        // The first change runs alone; the three after it share a group.
        intake.receive(change({ employee: { employeeId: 'Z1', email: 'z1@example.com' } })),
        intake.receive(change({ type: 'mover', employee: { employeeId: 'A1', email: 'A1@example.com', managerEmployeeId: 'B1' } })),
        intake.receive(change({ type: 'mover', employee: { employeeId: 'A2', email: 'A2@example.com', department: 'Sales' } })),
        intake.receive(change({ type: 'leaver', employee: { employeeId: 'A3', email: 'A3@example.com' } })),
        intake.receive(change({ eventId: 'future-move', type: 'mover', effectiveAt: '2027-02-01T00:00:00Z', employee: { employeeId: 'A4', email: 'A4@example.com', department: 'Sales' } })),
        intake.receive(change({ eventId: 'unknown-move', type: 'mover', employee: { employeeId: 'A404' } })).catch((error: unknown) => error),
      ]);
      expect(transactions()).toBe(2);
      // Each dedupe record holds the outcome its change had; the refused change left none.
      const inbox = new Map((await db.query<{ event_id: string; status: string }>('SELECT event_id, status FROM identity.hr_inbox')).rows.map((r) => [r.event_id, r.status]));
      expect(inbox.get('future-move')).toBe('scheduled');
      expect(inbox.has('unknown-move')).toBe(false);
      expect([...inbox.values()].filter((status) => status !== 'applied')).toEqual(['scheduled']);
      const after = await directory();
      expect(after.get('A1')?.manager_id).toBe(boss.identityId);
      expect(after.get('A1')?.xmin).not.toBe(before.get('A1')?.xmin);
      // A move that keeps the manager, and a leaver, leave their entries as they were: not rewritten.
      expect(after.get('A2')).toEqual(before.get('A2'));
      expect(after.get('A3')).toEqual(before.get('A3'));
      expect(after.get('Z1')).toBeDefined();
    });

    it('applies its changes one by one when a concurrent writer takes a version it needs', async () => {
      const e1 = await intake.receive(change({ employee: { employeeId: 'E1' } }));
      let release!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      let appended!: () => void;
      const written = new Promise<void>((resolve) => (appended = resolve));
      // Another writer (a SCIM correction, say) holds version 2 of E1's stream, uncommitted.
      const other = db.transaction(async (tx) => {
        const [hired] = await runtime.store.readStream(identityStreamId(e1.identityId));
        const identity = { ...(hired.data as { identity: object }).identity, groups: ['x'] };
        const data = { identityId: e1.identityId, groups: ['x'], identity, effectiveAt: '2026-11-01T09:00:00Z', recordedAt: now.toISOString() };
        await runtime.store.append(identityStreamId(e1.identityId), [{ name: 'GroupsAssigned', data, actor: 'test' }], 1, { tx });
        appended();
        await held;
      });
      await written;
      const first = intake.receive(change({ employee: { employeeId: 'E20', email: 'e20@example.com' } }));
      const group = Promise.all([
        intake.receive(change({ type: 'mover', employee: { employeeId: 'E1', department: 'Sales' } })),
        intake.receive(change({ employee: { employeeId: 'E21', email: 'e21@example.com' } })),
      ]);
      await first;
      await new Promise((resolve) => setTimeout(resolve, 100));
      release();
      await other;
      const [mover, joiner] = await group;
      expect(mover).toEqual({ identityId: e1.identityId, status: 'applied' });
      expect(joiner.status).toBe('applied');
      expect(await streamOf(e1.identityId)).toEqual(['IdentityHired', 'GroupsAssigned', 'IdentityMoved']);
      expect(await streamOf(joiner.identityId)).toEqual(['IdentityHired']);
    });

    it('links every report when two replicas take managers and reports at the same moment', async () => {
      const replica = new HrIntake(runtime, new EmployeeDirectory(db, 'identity'), scheduler);
      const pairs = Array.from({ length: 16 }, (_, i) => i);
      const outcomes = await Promise.all(
        pairs.flatMap((i) => [
          (i % 2 ? intake : replica).receive(change({ employee: { employeeId: `R${i}`, email: `r${i}@example.com`, managerEmployeeId: `M${i % 4}` } })),
          (i % 2 ? replica : intake).receive(change({ employee: { employeeId: `M${i % 4}-${i}`, email: `x${i}@example.com` } })),
          ...(i < 4 ? [(i % 2 ? replica : intake).receive(change({ employee: { employeeId: `M${i}`, email: `m${i}@example.com` } }))] : []),
        ]),
      );
      const { rows } = await db.query<{ employee_id: string; manager_id: string | null }>("SELECT employee_id, manager_id FROM identity.employee_directory WHERE employee_id LIKE 'R%'");
      expect(rows).toHaveLength(16);
      expect(rows.filter((r) => r.manager_id === null)).toEqual([]);
      expect(outcomes.every((o) => o.status === 'applied')).toBe(true);
    });
  });
});
