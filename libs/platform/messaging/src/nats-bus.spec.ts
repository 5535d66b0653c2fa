import { createPgDatabase, SqlEventStore, type CustosEvent, type EventStore, type SqlDatabase } from '@custos/platform/event-store';
import { createTestDatabase, eventually, randomNamespace, removeNamespaceStreams, startNats, type TestDatabase } from '@custos/platform/testing';
import { AckPolicy, jetstream as jetstreamOf, jetstreamManager, StorageType, type JetStreamManager } from '@nats-io/jetstream';
import { nanos, type NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { messageBusContract } from './contract/message-bus-contract';
import { contextStreamName, deadLetterStreamName, eventSubject } from './naming';
import { ACK_WAIT_MS, NatsBus } from './nats-bus';

// One namespace per test file: its subjects and streams are invisible to every other run.
const namespace = randomNamespace();
let natsUrl: string;
let database: TestDatabase;
let db: SqlDatabase;
let nc: NatsConnection;
let jsm: JetStreamManager;
const stores = new Map<string, EventStore>();

beforeAll(async () => {
  natsUrl = (await startNats()).url;
  database = await createTestDatabase('custos_messaging');
  db = createPgDatabase(database.url, { max: 10, applicationName: 'custos-messaging-spec' });
  nc = await connect({ servers: natsUrl });
  jsm = await jetstreamManager(nc);
}, 60_000);

afterAll(async () => {
  await Promise.allSettled([...stores.values()].map((store) => store.close()));
  if (jsm) {
    await removeNamespaceStreams(jsm, namespace);
  }
  await nc?.drain();
  await db?.close();
  await database?.drop();
}, 60_000);

async function storeFor(context: string): Promise<EventStore> {
  let store = stores.get(context);
  if (!store) {
    store = await SqlEventStore.open(db, { context, schema: `es_${context.replace(/-/g, '_')}` });
    stores.set(context, store);
  }
  return store;
}

const newBus = () => NatsBus.connect({ servers: natsUrl, namespace, name: 'messaging-spec' });

messageBusContract('nats', async () => ({
  createBus: newBus,
  store: storeFor,
  storedMessageCount: async (context) => (await jsm.streams.info(contextStreamName(namespace, context))).state.messages,
  dispose: async () => undefined,
}));

describe('NatsBus on JetStream', () => {
  let bus: NatsBus;
  beforeEach(async () => {
    bus = await newBus();
  });
  afterEach(async () => {
    await bus.close();
  });

  it('creates the context stream on file storage with a 2-minute duplicate window over the namespaced subjects', async () => {
    const store = await storeFor('stream-config');
    await bus.startRelay(store);
    const info = await jsm.streams.info(contextStreamName(namespace, 'stream-config'));
    expect(info.config).toMatchObject({
      name: `${namespace.toUpperCase()}_CUSTOS_STREAM-CONFIG`,
      subjects: [`${namespace}.evt.stream-config.>`],
      storage: StorageType.File,
      duplicate_window: nanos(120_000),
      num_replicas: 1,
    });
  });

  it('publishes each event under its name with the event id as the dedupe id, so a republished copy is dropped', async () => {
    const store = await storeFor('dedupe');
    const relay = await bus.startRelay(store);
    const { events } = await store.append('dedupe-1', [{ name: 'IdentityHired', data: { n: 1 }, actor: 'system:test' }], 'no-stream');
    await relay.caughtUp();

    const stream = contextStreamName(namespace, 'dedupe');
    const stored = await jsm.streams.getMessage(stream, { last_by_subj: eventSubject(namespace, 'dedupe', 'IdentityHired') });
    expect(stored?.json()).toEqual(events[0]);
    expect(stored?.header.get('Nats-Msg-Id')).toBe(events[0].id);
    expect(stored?.header.get('Ce-Type')).toBe('custos.dedupe.IdentityHired.v1');

    // What a relay that crashed after publishing but before its checkpoint committed would send again.
    const ack = await jsm.jetstream().publish(eventSubject(namespace, 'dedupe', 'IdentityHired'), JSON.stringify(events[0]), { msgID: events[0].id });
    expect(ack.duplicate).toBe(true);
    expect((await jsm.streams.info(stream)).state.messages).toBe(1);
  });

  it('configures a durable pull consumer with explicit acks, max deliveries and a single-name filter', async () => {
    await bus.consume({ durable: 'hires', context: 'consumer-config', eventNames: ['IdentityHired'], maxDeliver: 7, handler: async () => undefined });
    await bus.consume({ durable: 'two-names', context: 'consumer-config', eventNames: ['IdentityHired', 'IdentityLeft'], handler: async () => undefined });
    const stream = contextStreamName(namespace, 'consumer-config');
    expect((await jsm.consumers.info(stream, 'hires')).config).toMatchObject({
      durable_name: 'hires',
      ack_policy: AckPolicy.Explicit,
      deliver_policy: 'all',
      ack_wait: nanos(ACK_WAIT_MS),
      // maxDeliver attempts for the handler, plus one spare delivery that dead-letters after a crash.
      max_deliver: 8,
      filter_subject: `${namespace}.evt.consumer-config.IdentityHired`,
    });
    // Several names: the server filters the context, the bus acks what the handler did not ask for.
    expect((await jsm.consumers.info(stream, 'two-names')).config).toMatchObject({ filter_subject: `${namespace}.evt.consumer-config.>`, max_deliver: 6 });
  });

  it('dead-letters a message that is not an event at once, keeping its payload in the dead-letter stream', async () => {
    const handled: string[] = [];
    await bus.consume({ durable: 'garbage-in', context: 'garbage', handler: async (e) => void handled.push(e.id) });
    await jsm.jetstream().publish(eventSubject(namespace, 'garbage', 'IdentityHired'), 'not json {');
    const deadline = Date.now() + 10_000;
    let letters = await bus.deadLetters('garbage-in');
    while (letters.length === 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      letters = await bus.deadLetters('garbage-in');
    }
    expect(letters).toEqual([expect.objectContaining({ durable: 'garbage-in', event: null, payload: 'not json {', deliveries: 1 })]);
    expect(handled).toEqual([]);
    const subject = `${namespace}.dlq.garbage-in`;
    const dlq = await jsm.streams.info(deadLetterStreamName(namespace), { subjects_filter: subject });
    expect(dlq.state.subjects).toEqual({ [subject]: 1 });
    // The message is terminated once its dead letter is stored: nothing stays pending.
    let consumer = await jsm.consumers.info(contextStreamName(namespace, 'garbage'), 'garbage-in');
    while (consumer.num_ack_pending > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      consumer = await jsm.consumers.info(contextStreamName(namespace, 'garbage'), 'garbage-in');
    }
    expect(consumer.num_ack_pending + consumer.num_pending).toBe(0);
  });

  it('hands a lone event over at once and gathers what arrives while a batch is handled into the next batch', async () => {
    const store = await storeFor('gathering');
    const relay = await bus.startRelay(store);
    const calls: number[][] = [];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const hire = (n: number) => ({ name: 'IdentityHired', data: { n }, actor: 'system:test' });
    const numbers = (events: CustosEvent[]) => events.map((e) => (e.data as { n: number }).n);
    await bus.consume({
      durable: 'gathering',
      context: 'gathering',
      maxBatch: 5,
      // A batch of one goes to `handler`: the first event is held there until released.
      handler: async (e) => {
        calls.push(numbers([e]));
        if (calls.length === 1) await gate;
      },
      batchHandler: async (events) => void calls.push(numbers(events)),
    });
    await store.append('gathering-1', [hire(1)], 'no-stream');
    await relay.caughtUp();
    await eventually(async () => calls.length === 1, { timeoutMs: 10_000, intervalMs: 10, what: 'the lone event handled without waiting for company' });
    // Three more while the first is being handled: they make the next batch together.
    await store.append('gathering-1', [hire(2), hire(3)], 1);
    await store.append('gathering-2', [hire(4)], 'no-stream');
    await relay.caughtUp();
    await new Promise((r) => setTimeout(r, 200));
    release();
    await eventually(async () => calls.flat().length === 4, { timeoutMs: 10_000, intervalMs: 10, what: 'the gathered batch' });
    expect(calls).toEqual([[1], [2, 3, 4]]);
  });

  describe('a short ack wait, kept from expiring while messages are in hand', () => {
    const hire = (n: number) => ({ name: 'IdentityHired', data: { n }, actor: 'system:test' });

    it(`redelivers within seconds (ack wait ${ACK_WAIT_MS} ms) a message pulled by a consumer that died before acking it`, async () => {
      const store = await storeFor('dead-consumer');
      const relay = await bus.startRelay(store);
      // The durable as the bus configures it; then no bus consumer runs for a moment.
      const first = await bus.consume({ durable: 'dead-consumer', context: 'dead-consumer', handler: async () => undefined });
      await first.stop();
      await store.append('dead-1', [hire(1)], 'no-stream');
      await relay.caughtUp();

      // A process that pulls the message and dies: its connection ends, nothing is acked.
      const doomed = await connect({ servers: natsUrl });
      const pulled = await (await jetstreamOf(doomed).consumers.get(contextStreamName(namespace, 'dead-consumer'), 'dead-consumer')).next({ expires: 5_000 });
      expect(pulled?.info.deliveryCount).toBe(1);
      const diedAt = Date.now();
      await doomed.close();

      // A live replica takes over: the message reaches it once the short ack wait has passed.
      const handled: number[] = [];
      const replacement = await newBus();
      try {
        await replacement.consume({ durable: 'dead-consumer', context: 'dead-consumer', handler: async () => void handled.push(Date.now() - diedAt) });
        await eventually(async () => handled.length > 0, { timeoutMs: 30_000, intervalMs: 20, what: 'the redelivery' });
      } finally {
        await replacement.close();
      }
      // Well under the former 30 s ack wait, with room for a loaded machine.
      expect(handled[0]).toBeLessThan(ACK_WAIT_MS + 5_000);
    }, 60_000);

    it('does not redeliver while a handler slower than the ack wait works, nor the events waiting behind its batch', async () => {
      const store = await storeFor('slow-handler');
      const relay = await bus.startRelay(store);
      const handled: number[] = [];
      let slowOnce = true;
      const slowly = async (events: CustosEvent[]) => {
        if (slowOnce) {
          slowOnce = false;
          await new Promise((r) => setTimeout(r, ACK_WAIT_MS * 1.6));
        }
        handled.push(...events.map((e) => (e.data as { n: number }).n));
      };
      // Two replicas of the durable: a redelivered message would reach the idle one.
      const second = await newBus();
      try {
        for (const b of [bus, second]) {
          await b.consume({ durable: 'slow-handler', context: 'slow-handler', maxBatch: 4, handler: (e) => slowly([e]), batchHandler: slowly });
        }
        await store.append('slow-1', [hire(1), hire(2)], 'no-stream');
        await relay.caughtUp();
        await new Promise((r) => setTimeout(r, 300));
        // Arriving while the slow batch is in flight: waiting in hand (or at the other replica).
        await store.append('slow-2', [hire(3), hire(4), hire(5)], 'no-stream');
        await relay.caughtUp();
        await eventually(async () => handled.length >= 5, { timeoutMs: 30_000, intervalMs: 50, what: 'all five events handled' });
        await new Promise((r) => setTimeout(r, 500));
        expect([...handled].sort()).toEqual([1, 2, 3, 4, 5]);
        const info = await jsm.consumers.info(contextStreamName(namespace, 'slow-handler'), 'slow-handler');
        expect(info.num_redelivered).toBe(0);
        expect(info.num_ack_pending).toBe(0);
      } finally {
        await second.close();
      }
    }, 60_000);
  });

  it('reports health from the connection', async () => {
    expect(await bus.health()).toMatchObject({ ok: true, detail: expect.stringContaining('connected') });
    await bus.close();
    expect(await bus.health()).toEqual({ ok: false, detail: 'nats: connection closed' });
  });
});
