import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPgliteDatabase, SqlEventStore, type EventStore, type SqlDatabase } from '@custos/platform/event-store';
import { messageBusContract } from './contract/message-bus-contract';
import { InProcessBus, InProcessHub } from './in-process-bus';

let dir: string;
let db: SqlDatabase;
const stores = new Map<string, EventStore>();

// One PGlite for the file, as `npm start` has one for every context: that sharing is what the
// in-process bus must cope with.
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'custos-in-process-bus-'));
  db = await createPgliteDatabase(join(dir, 'data'));
}, 60_000);

afterAll(async () => {
  await Promise.allSettled([...stores.values()].map((store) => store.close()));
  await db?.close();
  await rm(dir, { recursive: true, force: true });
}, 30_000);

async function storeFor(context: string): Promise<EventStore> {
  let store = stores.get(context);
  if (!store) {
    store = await SqlEventStore.open(db, { context, schema: `es_${context.replace(/-/g, '_')}` });
    stores.set(context, store);
  }
  return store;
}

// The buses of one test share a hub, as the services of `npm start` share their process.
messageBusContract('in-process', async () => {
  const hub = new InProcessHub();
  return {
    createBus: async () => new InProcessBus({ hub, pollIntervalMs: 20 }),
    store: storeFor,
    dispose: async () => undefined,
  };
});

describe('InProcessBus on PGlite', () => {
  let bus: InProcessBus;
  beforeEach(() => {
    bus = new InProcessBus({ pollIntervalMs: 20 });
  });
  afterEach(async () => {
    await bus.close();
  });

  const waitUntil = async (condition: () => boolean | Promise<boolean>) => {
    const deadline = Date.now() + 10_000;
    while (!(await condition())) {
      if (Date.now() > deadline) throw new Error('timed out');
      await new Promise((r) => setTimeout(r, 20));
    }
  };

  it('lets a handler write to the same database as the store it consumes (one PGlite connection)', async () => {
    const identity = await storeFor('same-db-identity');
    const entitlement = await storeFor('same-db-entitlement');
    await bus.startRelay(identity);
    await bus.consume({
      durable: 'birthright',
      context: identity.context,
      handler: async (event) => {
        await entitlement.append(`access-${event.subject}`, [{ id: event.id, name: 'AccessGranted', data: {}, actor: 'system:birthright' }], 'any');
      },
    });
    await identity.append('identity-1', [{ name: 'IdentityHired', data: {}, actor: 'hr:workday' }], 'no-stream');
    await waitUntil(async () => (await entitlement.readStream('access-identity-1')).length === 1);
  });

  it('keeps dead letters in custos_bus.dead_letters, where a new bus instance still finds them', async () => {
    const identity = await storeFor('dead-letter-table');
    await bus.startRelay(identity);
    const { events } = await identity.append('identity-1', [{ name: 'IdentityHired', data: {}, actor: 'hr:workday' }], 'no-stream');
    await bus.consume({ durable: 'doomed', context: identity.context, maxDeliver: 2, retryDelayMs: 10, handler: async () => Promise.reject(new Error('nope')) });
    await waitUntil(async () => (await bus.deadLetters('doomed')).length === 1);

    const { rows } = await db.query<{ event_id: string; deliveries: number }>(
      `select event_id, deliveries from custos_bus.dead_letters where context = $1 and durable = 'doomed'`,
      [identity.context],
    );
    expect(rows).toEqual([{ event_id: events[0].id, deliveries: 2 }]);
    const later = new InProcessBus();
    await later.startRelay(identity);
    expect((await later.deadLetters('doomed')).map((l) => l.eventId)).toEqual([events[0].id]);
    await later.close();
  });

  it('refuses a second consumer on the same durable with different options', async () => {
    const identity = await storeFor('conflicting-durable');
    await bus.startRelay(identity);
    await bus.consume({ durable: 'one', context: identity.context, handler: async () => undefined });
    await expect(bus.consume({ durable: 'one', context: identity.context, eventNames: ['IdentityHired'], handler: async () => undefined })).rejects.toThrow(
      /other options/,
    );
    await expect(bus.consume({ durable: 'one', context: identity.context, handler: async () => undefined, batchHandler: async () => undefined })).rejects.toThrow(/other options/);
  });

  it('reports health until closed', async () => {
    await bus.startRelay(await storeFor('health'));
    expect(await bus.health()).toEqual({ ok: true, detail: 'in-process bus: stores for health; 0 consumers' });
    await bus.close();
    expect((await bus.health()).ok).toBe(false);
  });
});
