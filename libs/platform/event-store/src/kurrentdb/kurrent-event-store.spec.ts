import { existsSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { KurrentDBClient } from '@kurrent/kurrentdb-client';
import { eventStoreContract, type EventStoreFixture } from '../contract/event-store-contract';
import { createPgliteDatabase } from '../pglite-database';
import type { SqlDatabase } from '../sql';
import { InMemoryKurrentClient } from './in-memory-kurrent-client';
import { KurrentEventStore, type KurrentClient } from './kurrent-event-store';

/**
 * The shared contract suite, run twice: against the in-memory stand-in for a server (always; it
 * checks the adapter's own logic, not KurrentDB), and against a real KurrentDB, started with
 * @testcontainers/kurrentdb where a Docker engine is reachable, or the server at KURRENTDB_URL.
 * Where neither exists that run is skipped, and says so.
 */

let db: SqlDatabase;

beforeAll(async () => {
  // One embedded database for the file; each test's store keeps its checkpoints in its own schema.
  db = await createPgliteDatabase();
}, 60_000);

afterAll(async () => {
  await db?.close();
});

function fixtureOn(client: () => KurrentClient, prefix: () => string): () => Promise<EventStoreFixture> {
  return async () => {
    const schema = `kc_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
    const shared = client();
    const streamPrefix = prefix();
    const open = () => KurrentEventStore.open({ client: shared, db, context: 'contract', schema, streamPrefix });
    let store = await open();
    return {
      store,
      async reopen() {
        await store.close();
        store = await open();
        return store;
      },
      async cleanup() {
        await store.close();
      },
    };
  };
}

eventStoreContract(
  'kurrentdb (in-memory client)',
  fixtureOn(() => new InMemoryKurrentClient(), () => 'custos.contract.'),
  { unitAppendsAtCommit: true, singleConnection: false },
);

/** Where a real KurrentDB can be had: KURRENTDB_URL, else a Docker engine for testcontainers; null (and why) when neither. */
function realServer(): { url?: string; docker?: true } | { skip: string } {
  if (process.env.KURRENTDB_URL) return { url: process.env.KURRENTDB_URL };
  const socket = process.env.DOCKER_HOST ?? ['/var/run/docker.sock', `${process.env.HOME}/.docker/run/docker.sock`].find((path) => existsSync(path));
  if (socket) return { docker: true };
  return { skip: 'no Docker engine (no DOCKER_HOST, no /var/run/docker.sock) and no KURRENTDB_URL: the KurrentDB contract suite against a real server is SKIPPED' };
}

const server = realServer();
if ('skip' in server) console.warn(`kurrent-event-store.spec: ${server.skip}`);

(('skip' in server) ? describe.skip : describe)('against a real KurrentDB', () => {
  let client: KurrentDBClient;
  let stop: (() => Promise<unknown>) | undefined;

  beforeAll(async () => {
    let url = 'url' in server ? server.url : undefined;
    if (!url) {
      const { KurrentDbContainer } = await import('@testcontainers/kurrentdb');
      // 25.1 or later: the multi-stream append is what makes appendStreams atomic.
      const container = await new KurrentDbContainer(process.env.KURRENTDB_IMAGE ?? 'kurrentplatform/kurrentdb:25.1').start();
      stop = () => container.stop();
      url = container.getConnectionString();
    }
    client = KurrentDBClient.connectionString(url!);
  }, 180_000);

  afterAll(async () => {
    await client?.dispose();
    await stop?.();
  }, 60_000);

  // Each test writes under its own stream prefix, so tests never see each other's events on the server.
  eventStoreContract(
    'kurrentdb',
    fixtureOn(() => client, () => `t${randomUUID().replace(/-/g, '').slice(0, 12)}.custos.contract.`),
    { unitAppendsAtCommit: true },
  );
});
