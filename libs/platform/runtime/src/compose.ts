import {
  connectKurrentDB,
  createPgDatabase,
  createPgliteDatabase,
  KurrentEventStore,
  SqlDatabase,
  SqlEventStore,
  type DisposableKurrentClient,
  type EventStore,
} from '@custos/platform/event-store';
import { describeNatsAuth, InProcessBus, MessageBus, NatsBus, Relay } from '@custos/platform/messaging';
import pino, { Logger } from 'pino';
import type { CustosConfig } from './config';
import type { ContextDescriptor, ContextRuntime } from './runtime';
import { serveStoreEvents } from './store-events';

export interface Topology {
  runtimes: ContextRuntime[];
  db: SqlDatabase;
  bus: MessageBus;
  logger: Logger;
  close(): Promise<void>;
}

/** natsInboxPrefix is the first token of a process's NATS reply subjects: `_INBOX_<processName>` (`_INBOX_identity-service`). */
export function natsInboxPrefix(processName: string): string {
  // Anything but a subject token's letters would change what the permissions match.
  return `_INBOX_${processName.replace(/[^A-Za-z0-9_-]/g, '_')}`;
}

export function createLogger(config: CustosConfig, name: string): Logger {
  return pino({ name, level: config.logLevel });
}

export interface TopologyOptions {
  /** Opens the KurrentDB client for EVENT_STORE (tests hand in a stand-in). Default connectKurrentDB. */
  connectKurrentDB?: (connectionString: string) => DisposableKurrentClient;
}

/**
 * Opens the runtimes of the given contexts over one database and one bus: PostgreSQL and NATS when
 * DATABASE_URL / NATS_URL are set, else (the embedded default) PGlite under the data dir and the
 * in-process bus. Each context keeps its own schema; relays start here, before any consumer.
 * With EVENT_STORE (a KurrentDB connection string) each context's events are in KurrentDB, and the
 * database keeps the rest (checkpoints, read models, inbox); the context's runtime then gets the
 * store's view of the database, whose transactions are the store's units of work.
 */
export async function openTopology(config: CustosConfig, contexts: ContextDescriptor[], processName: string, options: TopologyOptions = {}): Promise<Topology> {
  const names = contexts.map((c) => c.name);
  if (new Set(names).size !== names.length) throw new Error(`a context is composed twice: ${names.join(', ')}`);
  const logger = createLogger(config, processName);
  // Said before the slow part, so that a first start does not look hung: PGlite loads its wasm and,
  // on a new data dir, runs initdb (several seconds on a small machine).
  if (!config.databaseUrl) logger.info({ dataDir: config.dataDir }, 'opening the embedded store (PGlite); a first start creates it, which takes a few seconds');
  const db = config.databaseUrl
    ? createPgDatabase(config.databaseUrl, { max: 20, applicationName: processName })
    : await createPgliteDatabase(config.dataDir);
  const bus: MessageBus = config.natsUrl
    ? await NatsBus.connect({
        servers: config.natsUrl,
        namespace: config.namespace,
        name: processName,
        replicas: config.streamReplicas,
        auth: config.natsAuth,
        // Replies to this process come only on its own subjects: the server's permissions (deploy/nats/custos-auth.conf) let no other service read them.
        inboxPrefix: natsInboxPrefix(processName),
        // What the bus recovers from by itself (a relay retry, a consumer restart, a permissions violation) is still said.
        onError: (error, where) => logger.warn({ where, error: error instanceof Error ? error.message : String(error) }, 'bus: recovered failure'),
      })
    : new InProcessBus();
  const kurrent = config.eventStoreUrl ? (options.connectKurrentDB ?? connectKurrentDB)(config.eventStoreUrl) : undefined;
  logger.info(
    {
      store: db.dialect,
      events: kurrent ? 'kurrentdb' : db.dialect,
      bus: bus.kind,
      busAuth: config.natsUrl ? describeNatsAuth(config.natsAuth) : undefined,
      dataDir: config.databaseUrl ? undefined : config.dataDir,
    },
    'custos topology',
  );
  const runtimes: ContextRuntime[] = [];
  const relays: Relay[] = [];
  const served: Array<{ stop(): Promise<void> }> = [];
  for (const { name, publishesEvents } of contexts) {
    let store: EventStore;
    let contextDb: SqlDatabase = db;
    if (kurrent) {
      const kurrentStore = await KurrentEventStore.open({ client: kurrent, db, context: name, schema: name });
      store = kurrentStore;
      contextDb = kurrentStore.db;
    } else {
      store = await SqlEventStore.open(db, { context: name, schema: name });
    }
    runtimes.push({ context: name, db: contextDb, store, bus, clock: () => new Date(), logger: logger.child({ context: name }), publicUrl: config.publicUrl });
    if (publishesEvents) {
      relays.push(await bus.startRelay(store));
      // What the store holds, as ids and digests, for the audit log's cross-check (GET /audit/verify).
      served.push(await serveStoreEvents(bus, store));
    }
  }
  return {
    runtimes,
    db,
    bus,
    logger,
    async close() {
      await Promise.all(served.map((s) => s.stop()));
      await Promise.all(relays.map((r) => r.stop()));
      // The bus first: in-process consumers commit their last batch while the stores are still open.
      await bus.close();
      await Promise.all(runtimes.map((r) => r.store.close()));
      await kurrent?.dispose();
      await db.close();
    },
  };
}
