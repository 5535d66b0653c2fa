import { Controller, Module, type INestMicroservice, type Type } from '@nestjs/common';
import { Ctx, EventPattern, MessagePattern, Payload, RpcException } from '@nestjs/microservices';
import { createPgDatabase, SqlEventStore, type CustosEvent, type EventStore, type SqlDatabase } from '@custos/platform/event-store';
import { createTestDatabase, eventually, randomNamespace, removeNamespaceStreamsAt, startNats, type TestDatabase } from '@custos/platform/testing';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { lastValueFrom, of } from 'rxjs';
import type { InboundMessage, InboundVerdict, MessageBus, Relay } from './bus';
import { InProcessBus } from './in-process-bus';
import { subjectPrefix } from './naming';
import { NatsBus } from './nats-bus';
import { BusClient } from './nest-client';
import type { DurableEvents, InboundEvents } from './nest-patterns';
import { BusContext, startBusMicroservice } from './nest-transport';

/** What the handlers of one bus received. */
class Received {
  batches: CustosEvent[][] = [];
  singles: Array<{ event: CustosEvent; source: string }> = [];
  inbound: string[] = [];
}

/** Handlers as the contexts declare them, on a context of the test's own. */
function handlersFor(context: string, received: Received) {
  @Controller()
  class Handlers {
    @MessagePattern(`rpc.${context}.echo`)
    echo(@Payload() payload: unknown) {
      return { echoed: payload };
    }

    @MessagePattern(`rpc.${context}.refuse`)
    refuse(): never {
      throw Object.assign(new Error('no such key'), { status: 404, details: { key: 'k-1' } });
    }

    @MessagePattern(`rpc.${context}.rpc-exception`)
    rpcException(): never {
      throw new RpcException({ status: 409, message: 'taken' });
    }

    @MessagePattern(`rpc.${context}.stream`)
    stream() {
      return of(1, 2, 3);
    }

    @EventPattern({ durable: `${context}-batched`, context, batch: true } satisfies DurableEvents)
    batched(@Payload() events: CustosEvent[]) {
      received.batches.push(events);
    }

    @EventPattern({ durable: `${context}-hires`, context, eventNames: ['Hired'] } satisfies DurableEvents)
    hired(@Payload() event: CustosEvent, @Ctx() ctx: BusContext) {
      received.singles.push({ event, source: ctx.getSource() });
    }

    @EventPattern({ durable: `${context}-poison`, context, eventNames: ['Poison'], maxDeliver: 2, retryDelayMs: 10 } satisfies DurableEvents)
    poison(): never {
      throw new Error('cannot handle poison');
    }

    @EventPattern({ durable: `${context}-door`, stream: `DOOR_${context.toUpperCase()}`, subjects: [`door.${context}.*`] } satisfies InboundEvents)
    door(@Payload() message: InboundMessage): InboundVerdict {
      received.inbound.push(message.text());
      return message.text() === 'bad' ? { deadLetter: 'bad input', details: { field: 'body' } } : 'ack';
    }
  }
  return Handlers;
}

const run = Math.random().toString(36).slice(2, 7);
let database: TestDatabase;
let db: SqlDatabase;
let natsUrl: string;
const namespace = randomNamespace();

beforeAll(async () => {
  natsUrl = (await startNats()).url;
  database = await createTestDatabase('custos_nest_transport');
  db = createPgDatabase(database.url, { max: 5, applicationName: 'nest-transport-spec' });
}, 60_000);

afterAll(async () => {
  await removeNamespaceStreamsAt(natsUrl, namespace).catch(() => undefined);
  await db?.close();
  await database?.drop();
}, 60_000);

const startMicroservice = (module: Type, bus: MessageBus, logs: string[] = []) => startBusMicroservice(module, bus, { info: (_fields, message) => void logs.push(message) });

describe.each([
  ['in-process', () => Promise.resolve(new InProcessBus({ pollIntervalMs: 20 }) as MessageBus)],
  ['nats', () => NatsBus.connect({ servers: natsUrl, namespace, name: 'nest-transport-spec' }) as Promise<MessageBus>],
] as const)('Nest bus transport over the %s bus', (kind, openBus) => {
  const context = `nt${kind === 'nats' ? 'n' : 'i'}${run}`;
  const received = new Received();
  const logs: string[] = [];
  let bus: MessageBus;
  let store: EventStore;
  let relay: Relay;
  let microservice: INestMicroservice;
  let client: BusClient;

  beforeAll(async () => {
    bus = await openBus();
    store = await SqlEventStore.open(db, { context, schema: `es_${context}` });
    relay = await bus.startRelay(store);
    @Module({ controllers: [handlersFor(context, received)] })
    class HandlersModule {}
    microservice = await startMicroservice(HandlersModule, bus, logs);
    client = new BusClient(bus, { timeoutMs: 2_000 });
  }, 60_000);

  afterAll(async () => {
    await microservice?.close();
    await relay?.stop();
    await bus?.close();
    await store?.close();
  }, 60_000);

  const append = async (streamId: string, names: string[]) =>
    (await store.append(streamId, names.map((name, i) => ({ name, data: { i }, actor: 'system:spec' })), 'any')).events;

  it('answers a @MessagePattern request through the ClientProxy', async () => {
    await expect(lastValueFrom(client.send(`rpc.${context}.echo`, { identityId: 'id-1' }))).resolves.toEqual({ echoed: { identityId: 'id-1' } });
    await expect(bus.request(`rpc.${context}.echo`, { n: 1 })).resolves.toEqual({ echoed: { n: 1 } });
    await expect(lastValueFrom(client.send(`rpc.${context}.stream`, {}))).resolves.toBe(3);
  });

  it("gives the caller a handler's error with its status, message and details, not Nest's 'Internal server error'", async () => {
    await expect(lastValueFrom(client.send(`rpc.${context}.refuse`, {}))).rejects.toMatchObject({ name: 'RpcError', status: 404, message: 'no such key', details: { key: 'k-1' } });
    await expect(lastValueFrom(client.send(`rpc.${context}.rpc-exception`, {}))).rejects.toMatchObject({ status: 409, message: 'taken' });
    await expect(lastValueFrom(client.send(`rpc.${context}.nobody`, {}))).rejects.toMatchObject({ status: 503 });
  });

  it('refuses to emit: events reach other contexts through the relay', async () => {
    await expect(lastValueFrom(client.emit(`evt.${context}.Hired`, {}))).rejects.toThrow(/relay/);
  });

  it('hands a batch handler arrays, a lone event as an array of one, every event once and in order', async () => {
    const lone = await append(`${context}-1`, ['Hired']);
    await eventually(async () => received.batches.flat().length === 1 || undefined, { what: 'the lone event' });
    expect(received.batches).toEqual([[expect.objectContaining({ id: lone[0].id })]]);
    const burst = await append(`${context}-2`, Array.from({ length: 40 }, () => 'Moved'));
    await eventually(async () => received.batches.flat().length === 41 || undefined, { what: 'the burst' });
    expect(received.batches.every((batch) => Array.isArray(batch) && batch.length >= 1)).toBe(true);
    expect(received.batches.flat().map((e) => e.id)).toEqual([lone[0].id, ...burst.map((e) => e.id)]);
  });

  it('hands a handler without batch one event at a time, only the names it asked for, with its durable as context', async () => {
    await eventually(async () => received.singles.length >= 1 || undefined, { what: 'the hire' });
    expect(received.singles.map((s) => s.event.name)).toEqual(['Hired']);
    expect(received.singles[0].source).toBe(`${context}-hires`);
  });

  it("dead-letters an event whose handler keeps throwing, with the handler's own error", async () => {
    const [poison] = await append(`${context}-3`, ['Poison']);
    const letters = await eventually(async () => {
      const found = await bus.deadLetters!(`${context}-poison`);
      return found.length > 0 ? found : undefined;
    }, { what: 'a dead letter', intervalMs: 100 });
    expect(letters).toEqual([expect.objectContaining({ eventId: poison.id, error: expect.stringContaining('cannot handle poison') })]);
  });

  if (kind === 'in-process') {
    it('keeps an inbound door closed on the in-process bus and says so', () => {
      expect(logs).toEqual([expect.stringMatching(new RegExp(`inbound door ${context}-door is off`))]);
    });
  } else {
    it("opens an inbound door on NATS, settling each message by the handler's verdict", async () => {
      const nc = await connect({ servers: natsUrl });
      try {
        const js = (await jetstreamManager(nc)).jetstream();
        await js.publish(`${subjectPrefix(namespace)}door.${context}.workday`, 'bad');
        await js.publish(`${subjectPrefix(namespace)}door.${context}.workday`, 'good');
        await eventually(async () => received.inbound.length === 2 || undefined, { what: 'both inbound messages' });
        const letters = await eventually(async () => {
          const found = await bus.deadLetters!(`${context}-door`);
          return found.length > 0 ? found : undefined;
        }, { what: 'the dead letter', intervalMs: 100 });
        expect(letters).toEqual([expect.objectContaining({ payload: 'bad', error: 'bad input', details: { field: 'body' } })]);
        expect(logs).toEqual([expect.stringMatching(/is open/)]);
      } finally {
        await nc.drain();
      }
    });
  }
});

describe('Nest bus transport declarations', () => {
  it('refuses two handlers for one durable consumer, even with other options', async () => {
    @Controller()
    class Twice {
      @EventPattern({ durable: 'twice', context: 'identity' } satisfies DurableEvents)
      first() {}

      @EventPattern({ durable: 'twice', context: 'identity', batch: true } satisfies DurableEvents)
      second() {}
    }
    @Module({ controllers: [Twice] })
    class TwiceModule {}
    const bus = new InProcessBus();
    try {
      await expect(startMicroservice(TwiceModule, bus)).rejects.toThrow(/two handlers/);
    } finally {
      await bus.close();
    }
  });

  it('refuses an event pattern that names no durable consumer', async () => {
    @Controller()
    class Loose {
      @EventPattern('evt.identity.IdentityHired')
      hired() {}
    }
    @Module({ controllers: [Loose] })
    class LooseModule {}
    const bus = new InProcessBus();
    try {
      await expect(startMicroservice(LooseModule, bus)).rejects.toThrow(/consumed durably/);
    } finally {
      await bus.close();
    }
  });
});
