import { randomNamespace, removeNamespaceStreams, startNats } from '@custos/platform/testing';
import { AckPolicy, jetstreamManager, StorageType, type JetStreamManager } from '@nats-io/jetstream';
import { headers, nanos, type NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import type { Consumer, DeadLetter, InboundMessage, InboundVerdict } from './bus';
import { deadLetterStreamName, streamName, subjectPrefix, subjectToken } from './naming';

// An inbound door as a context declares one (the platform knows none): identity's HR door, `hr.jml.<system>` in CUSTOS_HR.
const hrSubject = (ns: string, system: string) => `${subjectPrefix(ns)}hr.jml.${subjectToken('HR system', system)}`;
const hrSubjectFilter = (ns: string) => `${subjectPrefix(ns)}hr.jml.*`;
const hrStreamName = (ns: string) => streamName(ns, 'CUSTOS_HR');
import { NatsBus } from './nats-bus';

/** Inbound consumers (messages from outside Custos, such as HR systems on `hr.jml.<system>`) on a real JetStream. */
const namespace = randomNamespace();
let natsUrl: string;
let nc: NatsConnection;
let jsm: JetStreamManager;
let bus: NatsBus;
const consumers: Consumer[] = [];

beforeAll(async () => {
  natsUrl = (await startNats()).url;
  nc = await connect({ servers: natsUrl });
  jsm = await jetstreamManager(nc);
}, 60_000);

beforeEach(async () => {
  bus = await NatsBus.connect({ servers: natsUrl, namespace, name: 'inbound-spec' });
});

afterEach(async () => {
  await Promise.all(consumers.splice(0).map((c) => c.stop()));
  await bus.close();
  // Each test has a stream of its own: the HR stream name is fixed per namespace, so it is removed between tests.
  await jsm.streams.delete(hrStreamName(namespace)).catch(() => undefined);
});

afterAll(async () => {
  if (jsm) {
    await removeNamespaceStreams(jsm, namespace);
  }
  await nc?.drain();
}, 60_000);

const stream = () => hrStreamName(namespace);
const subjects = () => [hrSubjectFilter(namespace)];
/** What a consumer is given: names without namespace, which the bus adds. */
const hrDoor = { stream: hrStreamName(''), subjects: [hrSubjectFilter('')] };

async function publish(system: string, body: string, msgId?: string): Promise<void> {
  const h = headers();
  h.set('Correlation-Id', `corr-${body.length}`);
  await jsm.jetstream().publish(hrSubject(namespace, system), body, { msgID: msgId, headers: h });
}

async function consume(durable: string, handler: (m: InboundMessage) => Promise<InboundVerdict>, maxDeliver?: number): Promise<void> {
  consumers.push(await bus.consumeInbound({ ...hrDoor, durable, handler, maxDeliver, retryDelayMs: 20 }));
}

async function until<T>(probe: () => T | Promise<T>, done: (v: T) => boolean, what: string): Promise<T> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const value = await probe();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 30));
  }
}

/** Resolves once the consumer has nothing pending or unacknowledged. */
async function drained(durable: string): Promise<void> {
  await until(
    () => jsm.consumers.info(stream(), durable),
    (info) => info.num_pending === 0 && info.num_ack_pending === 0,
    `${durable} to drain`,
  );
}

describe('NatsBus.consumeInbound', () => {
  it('reads a door\'s subjects of every system under the namespace', () => {
    expect(hrSubjectFilter('')).toBe('hr.jml.*');
    expect(hrSubjectFilter('t4f2a')).toBe('t4f2a.hr.jml.*');
  });

  it('creates the stream when missing, with a durable explicit-ack consumer and unlimited deliveries by default', async () => {
    await consume('hr-config', async () => 'ack');
    expect((await jsm.streams.info(stream())).config).toMatchObject({
      name: `${namespace.toUpperCase()}_CUSTOS_HR`,
      subjects: [`${namespace}.hr.jml.*`],
      storage: StorageType.File,
      duplicate_window: nanos(120_000),
    });
    expect((await jsm.consumers.info(stream(), 'hr-config')).config).toMatchObject({
      durable_name: 'hr-config',
      ack_policy: AckPolicy.Explicit,
      deliver_policy: 'all',
      max_deliver: -1,
      filter_subject: `${namespace}.hr.jml.*`,
    });
  });

  it('keeps a stream an operator created (and its limits) instead of replacing it', async () => {
    await jsm.streams.add({ name: stream(), subjects: subjects(), storage: StorageType.Memory, max_msgs: 1000 });
    await consume('hr-existing', async () => 'ack');
    expect((await jsm.streams.info(stream())).config).toMatchObject({ storage: StorageType.Memory, max_msgs: 1000 });
  });

  it('hands each message over with its subject, body, headers and delivery count, and acks it on "ack"', async () => {
    const seen: Array<{ subject: string; text: string; correlation?: string; id?: string; deliveries: number; seq: number }> = [];
    await consume('hr-ack', async (m) => {
      seen.push({ subject: m.subject, text: m.text(), correlation: m.header('Correlation-Id'), id: m.header('Nats-Msg-Id'), deliveries: m.deliveries, seq: m.streamSequence });
      return 'ack';
    });
    await publish('workday', '{"n":1}', 'wd-1');
    await publish('bamboo', '{"n":22}');
    await until(() => seen.length, (n) => n === 2, 'two messages');
    expect(seen).toEqual([
      { subject: `${namespace}.hr.jml.workday`, text: '{"n":1}', correlation: 'corr-7', id: 'wd-1', deliveries: 1, seq: 1 },
      { subject: `${namespace}.hr.jml.bamboo`, text: '{"n":22}', correlation: 'corr-8', id: undefined, deliveries: 1, seq: 2 },
    ]);
    await drained('hr-ack');
  });

  it('dead-letters a refused message with its reason, details and payload, terminates it, and goes on with the next', async () => {
    const handled: string[] = [];
    await consume('hr-refuse', async (m) => {
      const body = JSON.parse(m.text()) as { ok: boolean; n: number };
      if (!body.ok) return { deadLetter: 'invalid HR event', details: { errors: [{ field: 'n', message: 'n must be even' }] } };
      handled.push(String(body.n));
      return 'ack';
    });
    await publish('workday', '{"ok":false,"n":1}', 'same-id');
    await publish('workday', '{"ok":true,"n":2}');
    await publish('workday', '{"ok":false,"n":3}', 'same-id-2');
    await until(() => handled.length, (n) => n === 1, 'the valid message');
    const letters = await until(() => bus.deadLetters('hr-refuse'), (l) => l.length === 2, 'two dead letters');
    expect(letters[0]).toEqual<DeadLetter>({
      durable: 'hr-refuse',
      eventId: 'same-id',
      event: null,
      payload: '{"ok":false,"n":1}',
      subject: `${namespace}.hr.jml.workday`,
      error: 'invalid HR event',
      details: { errors: [{ field: 'n', message: 'n must be even' }] },
      deliveries: 1,
      deadAt: expect.any(String),
    });
    expect(letters[1]).toMatchObject({ eventId: 'same-id-2', payload: '{"ok":false,"n":3}' });
    const dlq = await jsm.streams.info(deadLetterStreamName(namespace), { subjects_filter: `${namespace}.dlq.hr-refuse` });
    expect(dlq.state.subjects).toEqual({ [`${namespace}.dlq.hr-refuse`]: 2 });
    await drained('hr-refuse');
  });

  it('redelivers a message whose handler throws (a database outage) until it is handled', async () => {
    const attempts: number[] = [];
    await consume('hr-retry', async (m) => {
      attempts.push(m.deliveries);
      if (m.deliveries < 3) throw new Error('database unavailable');
      return 'ack';
    });
    await publish('workday', '{"n":1}');
    await until(() => attempts.length, (n) => n === 3, 'three attempts');
    await drained('hr-retry');
    expect(attempts).toEqual([1, 2, 3]);
    expect(await bus.deadLetters('hr-retry')).toEqual([]);
  });

  it('dead-letters a message that keeps throwing once a configured maxDeliver is used up', async () => {
    await consume('hr-give-up', async () => Promise.reject(new Error('always broken')), 2);
    await publish('workday', '{"n":1}');
    const letters = await until(() => bus.deadLetters('hr-give-up'), (l) => l.length === 1, 'a dead letter');
    expect(letters[0]).toMatchObject({ durable: 'hr-give-up', event: null, payload: '{"n":1}', deliveries: 2, error: expect.stringContaining('always broken') });
    await drained('hr-give-up');
  });

  it('refuses a consumer without subjects or with a maxDeliver of 0', async () => {
    await expect(bus.consumeInbound({ stream: hrDoor.stream, subjects: [], durable: 'x', handler: async () => 'ack' })).rejects.toThrow(/at least one subject/);
    await expect(bus.consumeInbound({ ...hrDoor, durable: 'x', maxDeliver: 0, handler: async () => 'ack' })).rejects.toThrow(/maxDeliver/);
    await expect(bus.consumeInbound({ ...hrDoor, durable: 'a.b', handler: async () => 'ack' })).rejects.toThrow(/invalid durable/);
  });
});
