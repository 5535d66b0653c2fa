import { Module, type INestMicroservice } from '@nestjs/common';
import { EmployeeDirectory, HR_NATS_DURABLE, HrIntake, HrNatsDoor, hrStreamName, hrSubject, hrSubjectFilter } from '@custos/identity/application';
import { identityStreamId } from '@custos/identity/contracts';
import { createPgDatabase, SqlDatabase, SqlEventStore } from '@custos/platform/event-store';
import { InProcessBus, NatsBus, startBusMicroservice, type DeadLetter, type MessageBus } from '@custos/platform/messaging';
import { ContextRuntime, createLogger, DurableScheduler, migrateContext, readConfig } from '@custos/platform/runtime';
import { createTestDatabase, eventually, randomNamespace, removeNamespaceStreams, startNats, type TestDatabase } from '@custos/platform/testing';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { headers, type NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { checkHrEvent } from './hr-event.validation';
import { HrNatsController } from './hr-nats.controller';

/** The door as a service runs it: HrNatsController on the bus transport. */
function openDoor(door: HrNatsDoor, bus: MessageBus, logs: string[] = []): Promise<INestMicroservice> {
  @Module({ controllers: [HrNatsController], providers: [{ provide: HrNatsDoor, useValue: door }] })
  class DoorModule {}
  return startBusMicroservice(DoorModule, bus, { info: (_fields, message) => void logs.push(message) });
}

/** The NATS door for HR systems against a real NATS JetStream and a real PostgreSQL. */
describe('the HR door\'s names', () => {
  it.each([
    ['HR subject', hrSubject('', 'workday'), 'hr.jml.workday'],
    ['HR subject, namespaced', hrSubject('t4f2a', 'sap-hr'), 't4f2a.hr.jml.sap-hr'],
    ['HR subjects of every system', hrSubjectFilter(''), 'hr.jml.*'],
    ['HR stream', hrStreamName(''), 'CUSTOS_HR'],
    ['HR stream, namespaced', hrStreamName('t4f2a'), 'T4F2A_CUSTOS_HR'],
  ])('%s', (_what, actual, expected) => expect(actual).toBe(expected));

  it('refuses a system that would change which subjects match', () => {
    for (const system of ['work.day', '*', '>', 'work day']) expect(() => hrSubject('', system)).toThrow(/invalid HR system/);
  });
});

describe('HR NATS door (hr.jml.<system>)', () => {
  const namespace = randomNamespace();
  let database: TestDatabase;
  let db: SqlDatabase;
  let bus: NatsBus;
  let runtime: ContextRuntime;
  let doorService: INestMicroservice;
  let directory: EmployeeDirectory;
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  let seq = 0;
  const run = Math.random().toString(36).slice(2, 8);

  beforeAll(async () => {
    const nats = await startNats();
    database = await createTestDatabase('custos_hr_door');
    db = createPgDatabase(database.url, { max: 5, applicationName: 'hr-door-spec' });
    bus = await NatsBus.connect({ servers: nats.url, namespace, name: 'hr-door-spec' });
    const store = await SqlEventStore.open(db, { context: 'identity', schema: 'identity' });
    runtime = { context: 'identity', db, store, bus, clock: () => new Date(), logger: createLogger(readConfig({ LOG_LEVEL: 'silent' }), 'hr-door-spec'), publicUrl: 'http://localhost:3000' };
    directory = new EmployeeDirectory(db, 'identity');
    const scheduler = new DurableScheduler(db, 'identity', runtime.clock);
    const intake = new HrIntake(runtime, directory, scheduler);
    await migrateContext(db, 'identity', [(x) => directory.migrate(x), (x) => intake.migrate(x), (x) => scheduler.migrate(x)]);
    doorService = await openDoor(new HrNatsDoor(runtime, intake, checkHrEvent), bus);
    nc = await connect({ servers: nats.url });
    jsm = await jetstreamManager(nc);
  }, 60_000);

  afterAll(async () => {
    await doorService?.close();
    await bus?.close();
    if (jsm) {
      await removeNamespaceStreams(jsm, namespace);
    }
    await nc?.drain();
    await runtime?.store.close();
    await db?.close();
    await database?.drop();
  }, 60_000);

  const hrEvent = (over: Record<string, unknown> = {}, employee: Record<string, unknown> = {}) => ({
    eventId: `nats-${run}-${++seq}`,
    system: 'workday',
    type: 'joiner',
    effectiveAt: '2026-01-05T09:00:00Z',
    ...over,
    employee: { employeeId: `E-${run}-${seq}`, givenName: 'Ada', familyName: 'Lovelace', email: `ada-${seq}@example.com`, department: 'Engineering', employmentType: 'employee', ...employee },
  });

  const publish = async (system: string, body: unknown, correlationId?: string) => {
    const h = headers();
    if (correlationId) h.set('Correlation-Id', correlationId);
    await jsm.jetstream().publish(hrSubject(namespace, system), typeof body === 'string' ? body : JSON.stringify(body), { headers: h });
  };

  const identityOf = (employeeId: string) => eventually(() => db.transaction((tx) => directory.byEmployeeId(tx, employeeId)), { what: `an identity for ${employeeId}` });
  const eventsOf = async (identityId: string) => (await runtime.store.readStream(identityStreamId(identityId))).map((e) => ({ name: e.name, correlationId: e.correlationid, actor: e.actor, data: e.data }));
  const deadLetter = (match: (l: DeadLetter) => boolean) =>
    eventually(async () => (await bus.deadLetters(HR_NATS_DURABLE)).find(match), { what: 'a dead letter', intervalMs: 100 });

  it('consumes the namespaced CUSTOS_HR stream with a durable consumer', async () => {
    const info = await jsm.consumers.info(hrStreamName(namespace), HR_NATS_DURABLE);
    expect(info.config).toMatchObject({ durable_name: 'identity-hr-door', filter_subject: `${namespace}.hr.jml.*` });
  });

  it('applies a valid joiner through HrIntake on channel "nats", with the publisher\'s correlation id', async () => {
    const joiner = hrEvent();
    await publish('workday', joiner, `corr-${run}`);
    const entry = await identityOf(joiner.employee.employeeId as string);
    const events = await eventsOf(entry!.identityId);
    expect(events).toEqual([
      expect.objectContaining({
        name: 'IdentityHired',
        correlationId: `corr-${run}`,
        actor: 'hr:workday',
        data: expect.objectContaining({ source: { system: 'workday', eventId: joiner.eventId, channel: 'nats' } }),
      }),
    ]);
  });

  it('applies a message published twice (same eventId) once', async () => {
    const joiner = hrEvent();
    await publish('workday', joiner);
    await publish('workday', joiner);
    const marker = hrEvent();
    await publish('workday', marker);
    // Messages of one subject are handled in order: once the later one is applied, both copies were seen.
    await identityOf(marker.employee.employeeId as string);
    const entry = await identityOf(joiner.employee.employeeId as string);
    expect((await eventsOf(entry!.identityId)).map((e) => e.name)).toEqual(['IdentityHired']);
    const { rows } = await db.query<{ n: string }>(`SELECT count(*) AS n FROM identity.hr_inbox WHERE system = 'workday' AND event_id = $1`, [joiner.eventId]);
    expect(Number(rows[0].n)).toBe(1);
  });

  it('dead-letters an invalid message with its validation errors, and still applies the valid one behind it', async () => {
    const invalid = { ...hrEvent({ type: 'promotion', effectiveAt: 'next monday' }, { email: 'not-an-email' }), extra: true };
    await publish('workday', invalid);
    const valid = hrEvent();
    await publish('workday', valid);
    await identityOf(valid.employee.employeeId as string);
    const letter = await deadLetter((l) => l.payload === JSON.stringify(invalid));
    expect(letter).toMatchObject({ durable: 'identity-hr-door', event: null, subject: `${namespace}.hr.jml.workday`, error: expect.stringMatching(/^invalid HR event: /), deliveries: 1 });
    const errors = (letter!.details as { errors: Array<{ field: string; message: string }> }).errors;
    expect([...new Set(errors.map((e) => e.field))].sort()).toEqual(['effectiveAt', 'employee.email', 'extra', 'type']);
    expect(errors.find((e) => e.field === 'extra')?.message).toBe('property extra should not exist');
    expect(await db.transaction((tx) => directory.byEmployeeId(tx, invalid.employee.employeeId as string))).toBeNull();
  });

  it('dead-letters a mover for an unknown employee with the reason, writing nothing', async () => {
    const mover = hrEvent({ type: 'mover' });
    await publish('workday', mover);
    const letter = await deadLetter((l) => l.payload === JSON.stringify(mover));
    expect(letter).toMatchObject({
      error: `refused: identity employee ${mover.employee.employeeId} does not exist`,
      details: { code: 'identity-not-found', eventId: mover.eventId, system: 'workday' },
    });
    const { rows } = await db.query(`SELECT 1 FROM identity.hr_inbox WHERE event_id = $1`, [mover.eventId]);
    expect(rows).toEqual([]);
  });

  it('dead-letters a message whose system differs from its subject, and one that is not JSON', async () => {
    const mismatched = hrEvent({ system: 'bamboohr' });
    await publish('workday', mismatched);
    await publish('workday', '{"eventId": ');
    const letter = await deadLetter((l) => l.payload === JSON.stringify(mismatched));
    expect(letter!.details).toEqual({ errors: [{ field: 'system', message: `system must be "workday", the last token of the subject ${namespace}.hr.jml.workday` }] });
    const garbage = await deadLetter((l) => l.payload === '{"eventId": ');
    expect(garbage!.error).toBe('invalid HR event: the body is not JSON');
  });

  it('retries a message while the database fails, and applies it once the database is back', async () => {
    // A real failure of the intake's transaction: its dedupe table is briefly gone.
    await db.query(`ALTER TABLE identity.hr_inbox RENAME TO hr_inbox_away`);
    const joiner = hrEvent();
    try {
      await publish('workday', joiner);
      await eventually(async () => (await jsm.consumers.info(hrStreamName(namespace), HR_NATS_DURABLE)).num_redelivered > 0, { what: 'a redelivery', intervalMs: 50 });
    } finally {
      await db.query(`ALTER TABLE identity.hr_inbox_away RENAME TO hr_inbox`);
    }
    const entry = await identityOf(joiner.employee.employeeId as string);
    expect((await eventsOf(entry!.identityId)).map((e) => e.name)).toEqual(['IdentityHired']);
    expect((await bus.deadLetters(HR_NATS_DURABLE)).some((l) => l.payload === JSON.stringify(joiner))).toBe(false);
  });

  it('stays closed on the in-process bus and says so', async () => {
    const logs: string[] = [];
    const inProcess = new InProcessBus();
    const off = await openDoor(new HrNatsDoor({ ...runtime, bus: inProcess }, undefined as never, checkHrEvent), inProcess, logs);
    await off.close();
    await inProcess.close();
    expect(logs).toEqual([expect.stringMatching(/^inbound door identity-hr-door is off: .*set NATS_URL to receive hr\.jml\.\*/)]);
  });
});
