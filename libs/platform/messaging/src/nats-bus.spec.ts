import { createPgDatabase, SqlEventStore, type EventStore, type SqlDatabase } from '@custos/platform/event-store';
import { createTestDatabase, randomNamespace, removeNamespaceStreams, startNats, type TestDatabase } from '@custos/platform/testing';
import { AckPolicy, jetstreamManager, StorageType, type JetStreamManager } from '@nats-io/jetstream';
import { nanos, type NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { messageBusContract } from './contract/message-bus-contract';
import { contextStreamName, deadLetterStreamName, eventSubject } from './naming';
import { NatsBus } from './nats-bus';

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
      ack_wait: nanos(30_000),
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

  it('lets a batch linger for more events (lingerMs), cut short by a full batch', async () => {
    const store = await storeFor('lingering');
    const relay = await bus.startRelay(store);
    const batches: number[] = [];
    const handled: string[] = [];
    await bus.consume({
      durable: 'lingering',
      context: 'lingering',
      maxBatch: 5,
      lingerMs: 1_500,
      handler: async (e) => void handled.push(e.id),
      batchHandler: async (events) => {
        batches.push(events.length);
        handled.push(...events.map((e) => e.id));
      },
    });
    const hire = (n: number) => ({ name: 'IdentityHired', data: { n }, actor: 'system:test' });
    // One event, then two more 100 ms later: all three inside the first one's linger.
    await store.append('lingering-1', [hire(1)], 'no-stream');
    await relay.caughtUp();
    await new Promise((r) => setTimeout(r, 100));
    await store.append('lingering-1', [hire(2), hire(3)], 1);
    await relay.caughtUp();
    const deadline = Date.now() + 10_000;
    while (handled.length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(batches).toEqual([3]);

    // Five at once fill the batch: handed over without waiting out the linger.
    const started = Date.now();
    await store.append('lingering-2', [1, 2, 3, 4, 5].map(hire), 'no-stream');
    await relay.caughtUp();
    while (handled.length < 8 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    expect(batches).toEqual([3, 5]);
    expect(Date.now() - started).toBeLessThan(1_500);
    await expect(bus.consume({ durable: 'bad-linger', context: 'lingering', lingerMs: -1, handler: async () => undefined })).rejects.toThrow(RangeError);
  });

  it('reports health from the connection', async () => {
    expect(await bus.health()).toMatchObject({ ok: true, detail: expect.stringContaining('connected') });
    await bus.close();
    expect(await bus.health()).toEqual({ ok: false, detail: 'nats: connection closed' });
  });
});
