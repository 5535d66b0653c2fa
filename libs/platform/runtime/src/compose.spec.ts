import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InMemoryKurrentClient, KurrentEventStore, sqlOf, type CustosEvent, type NewEvent } from '@custos/platform/event-store';
import { createTestDatabase, eventually, randomNamespace, removeNamespaceStreams, startNats, type StartedNats, type TestDatabase } from '@custos/platform/testing';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { natsInboxPrefix, openTopology, type Topology } from './compose';
import type { ContextDescriptor } from './runtime';
import { readConfig } from './config';

// Contexts register themselves; the platform knows none by name. Three publish their streams, one only reads.
const descriptor = (name: string, publishesEvents = true): ContextDescriptor => ({ name, publishesEvents });
const ALL_CONTEXTS = [descriptor('identity'), descriptor('entitlement'), descriptor('request'), descriptor('audit', false)];
const ALL = ALL_CONTEXTS.map((c) => c.name);
const event = (name: string): NewEvent => ({ name, data: { at: Date.now() }, actor: 'system:compose-spec' });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function count(topology: Topology, table: string): Promise<number> {
  const { rows } = await topology.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`);
  return rows[0].n;
}

describe('openTopology, embedded (no DATABASE_URL, no NATS_URL)', () => {
  let dataDir: string;
  let topology: Topology | undefined;

  beforeAll(async () => {
    dataDir = join(await mkdtemp(join(tmpdir(), 'custos-compose-')), 'data');
    topology = await openTopology(readConfig({ CUSTOS_DATA_DIR: dataDir, LOG_LEVEL: 'silent' }), ALL_CONTEXTS, 'compose-spec');
  }, 90_000);

  afterAll(async () => {
    await topology?.close();
    await rm(join(dataDir, '..'), { recursive: true, force: true });
  }, 60_000);

  it('opens PGlite under the data dir and the in-process bus', () => {
    expect(topology!.db.dialect).toBe('pglite');
    expect(topology!.bus.kind).toBe('in-process');
    expect(existsSync(dataDir) && readdirSync(dataDir).length).toBeGreaterThan(0);
  });

  it('opens one runtime per context, each on its own schema, sharing the database and the bus', async () => {
    const t = topology!;
    expect(t.runtimes.map((r) => r.context)).toEqual(ALL);
    for (const runtime of t.runtimes) {
      expect(runtime.store.context).toBe(runtime.context);
      expect(runtime.db).toBe(t.db);
      expect(runtime.bus).toBe(t.bus);
      expect(runtime.clock()).toBeInstanceOf(Date);
    }

    const identity = t.runtimes.find((r) => r.context === 'identity')!;
    await identity.store.append('identity-compose-1', [event('IdentityHired')], 'no-stream');
    expect(await count(t, 'identity.events')).toBe(1);
    for (const other of ['entitlement', 'request', 'audit']) expect(await count(t, `${other}.events`)).toBe(0);
  });

  it('starts relays for identity, entitlement and request (their events reach a consumer) and none for audit', async () => {
    const t = topology!;
    const received = new Map<string, CustosEvent[]>();
    const consumers = await Promise.all(
      ALL.map((context) =>
        t.bus.consume({
          durable: `compose-spec-${context}`,
          context,
          eventNames: ['Probed'],
          handler: async (e) => void received.set(context, [...(received.get(context) ?? []), e]),
        }),
      ),
    );
    try {
      const appended = new Map<string, string>();
      for (const runtime of t.runtimes) {
        appended.set(runtime.context, (await runtime.store.append(`${runtime.context}-probe`, [event('Probed')], 'no-stream')).events[0].id);
      }
      for (const context of ['identity', 'entitlement', 'request']) {
        await eventually(async () => received.get(context)?.map((e) => e.id), {
          accept: (ids) => ids?.[0] === appended.get(context),
          timeoutMs: 10_000,
          intervalMs: 20,
          what: `the ${context} event on the bus`,
        });
      }
      await sleep(300);
      expect(received.get('audit')).toBeUndefined();
    } finally {
      await Promise.all(consumers.map((c) => c.stop()));
    }
  }, 30_000);

  it('close() stops the bus and the relays and closes the database', async () => {
    const t = topology!;
    topology = undefined;
    await t.close();
    await expect(t.db.query('SELECT 1')).rejects.toThrow();
    await expect(t.bus.consume({ durable: 'late', context: 'identity', handler: async () => undefined })).rejects.toThrow(/closed/);
  }, 30_000);
});

describe('openTopology with EVENT_STORE (KurrentDB; here the in-memory stand-in for its client)', () => {
  it("keeps each context's events in KurrentDB under its own prefix and the rest in the database; relays and the context's transactions work on it", async () => {
    const dataDir = join(await mkdtemp(join(tmpdir(), 'custos-compose-kurrent-')), 'data');
    const client = new InMemoryKurrentClient();
    const urls: string[] = [];
    const config = readConfig({ CUSTOS_DATA_DIR: dataDir, LOG_LEVEL: 'silent', EVENT_STORE: 'kurrentdb://kurrent:2113?tls=false' });
    const topology = await openTopology(config, [descriptor('identity'), descriptor('audit', false)], 'compose-spec', {
      connectKurrentDB: (url) => (urls.push(url), client),
    });
    try {
      expect(urls).toEqual(['kurrentdb://kurrent:2113?tls=false']);
      const [identity, audit] = topology.runtimes;
      expect(identity.store).toBeInstanceOf(KurrentEventStore);
      // The runtime's database is the store's view of it: its transactions are the store's units of work.
      expect(identity.db).toBe((identity.store as KurrentEventStore).db);
      expect(audit.store).toBeInstanceOf(KurrentEventStore);

      const received: CustosEvent[] = [];
      const consumer = await topology.bus.consume({ durable: 'compose-spec-kurrent', context: 'identity', handler: async (e) => void received.push(e) });
      try {
        await identity.db.transaction(async (tx) => {
          await sqlOf(tx).query('CREATE TABLE IF NOT EXISTS identity.probe (id text)');
          await sqlOf(tx).query(`INSERT INTO identity.probe VALUES ('x')`);
          await identity.store.append('identity-kurrent-1', [event('IdentityHired')], 'no-stream', { tx });
        });
        await eventually(async () => received.length > 0, { timeoutMs: 10_000, intervalMs: 20, what: 'the event through the in-process bus' });
        expect(received[0]).toMatchObject({ subject: 'identity-kurrent-1', name: 'IdentityHired', source: '/custos/identity' });
        expect(client.log.map((e) => e.streamId)).toEqual(['custos.identity.identity-kurrent-1']);
        expect(await count(topology, 'identity.probe')).toBe(1);
        // No SQL events table: the events are in KurrentDB only.
        await expect(count(topology, 'identity.events')).rejects.toThrow();
      } finally {
        await consumer.stop();
      }
    } finally {
      await topology.close();
      await rm(join(dataDir, '..'), { recursive: true, force: true });
    }
  }, 90_000);
});

describe('openTopology, distributed (DATABASE_URL and NATS_URL)', () => {
  let database: TestDatabase;
  let nats: StartedNats;
  const namespace = randomNamespace();

  beforeAll(async () => {
    [database, nats] = await Promise.all([createTestDatabase('custos_compose'), startNats()]);
  }, 60_000);

  afterAll(async () => {
    if (nats) {
      const nc = await connect({ servers: nats.url });
      const jsm = await jetstreamManager(nc);
      await removeNamespaceStreams(jsm, namespace);
      await nc.drain();
      await nats.stop();
    }
    await database?.drop();
  }, 60_000);

  it('opens PostgreSQL and NATS, and an append to a store reaches a consumer through JetStream', async () => {
    const config = readConfig({ DATABASE_URL: database.url, NATS_URL: nats.url, CUSTOS_NAMESPACE: namespace, LOG_LEVEL: 'silent' });
    const topology = await openTopology(config, [descriptor('identity'), descriptor('audit', false)], 'compose-spec');
    try {
      expect(topology.db.dialect).toBe('pg');
      expect(topology.bus.kind).toBe('nats');
      expect(topology.runtimes.map((r) => r.context)).toEqual(['identity', 'audit']);

      const received: CustosEvent[] = [];
      const consumer = await topology.bus.consume({ durable: 'compose-spec', context: 'identity', handler: async (e) => void received.push(e) });
      try {
        const identity = topology.runtimes[0];
        const appended = await identity.store.append('identity-nats-1', [event('IdentityHired')], 'no-stream');
        await eventually(async () => received.length > 0, { timeoutMs: 15_000, intervalMs: 20, what: 'the event through NATS' });
        expect(received.map((e) => e.id)).toEqual([appended.events[0].id]);
        expect(received[0]).toMatchObject({ subject: 'identity-nats-1', name: 'IdentityHired', source: '/custos/identity' });
        expect(await count(topology, 'identity.events')).toBe(1);
      } finally {
        await consumer.stop();
      }
    } finally {
      await topology.close();
    }
    await expect(topology.db.query('SELECT 1')).rejects.toThrow();
  }, 30_000);
});

describe('natsInboxPrefix', () => {
  it('gives each process its own first token of reply subjects, which deploy/nats/custos-auth.conf lets only that service read', () => {
    expect(natsInboxPrefix('identity-service')).toBe('_INBOX_identity-service');
    expect(natsInboxPrefix('my service.v2')).toBe('_INBOX_my_service_v2');
  });
});
