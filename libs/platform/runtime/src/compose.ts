import { createPgDatabase, createPgliteDatabase, SqlDatabase, SqlEventStore } from '@custos/platform/event-store';
import { InProcessBus, MessageBus, NatsBus, Relay } from '@custos/platform/messaging';
import pino, { Logger } from 'pino';
import type { CustosConfig } from './config';
import type { ContextRuntime } from './runtime';

export type ContextName = ContextRuntime['context'];

/** Contexts that own domain streams, and so run a relay from their store to the bus. */
const CONTEXTS_WITH_STREAMS: ReadonlySet<ContextName> = new Set(['identity', 'entitlement', 'request']);

export interface Topology {
  runtimes: ContextRuntime[];
  db: SqlDatabase;
  bus: MessageBus;
  logger: Logger;
  close(): Promise<void>;
}

export function createLogger(config: CustosConfig, name: string): Logger {
  return pino({ name, level: config.logLevel });
}

/**
 * Opens the runtimes of the given contexts over one database and one bus: PostgreSQL and NATS when
 * DATABASE_URL / NATS_URL are set, else (the embedded default) PGlite under the data dir and the
 * in-process bus. Each context keeps its own schema; relays start here, before any consumer.
 */
export async function openTopology(config: CustosConfig, contexts: ContextName[], processName: string): Promise<Topology> {
  const logger = createLogger(config, processName);
  // Said before the slow part, so that a first start does not look hung: PGlite loads its wasm and,
  // on a new data dir, runs initdb (several seconds on a small machine).
  if (!config.databaseUrl) logger.info({ dataDir: config.dataDir }, 'opening the embedded store (PGlite); a first start creates it, which takes a few seconds');
  const db = config.databaseUrl
    ? createPgDatabase(config.databaseUrl, { max: 20, applicationName: processName })
    : await createPgliteDatabase(config.dataDir);
  const bus: MessageBus = config.natsUrl
    ? await NatsBus.connect({ servers: config.natsUrl, namespace: config.namespace, name: processName, replicas: config.streamReplicas })
    : new InProcessBus();
  logger.info({ store: db.dialect, bus: bus.kind, dataDir: config.databaseUrl ? undefined : config.dataDir }, 'custos topology');
  const runtimes: ContextRuntime[] = [];
  const relays: Relay[] = [];
  for (const context of contexts) {
    const store = await SqlEventStore.open(db, { context, schema: context });
    runtimes.push({ context, db, store, bus, clock: () => new Date(), logger: logger.child({ context }), publicUrl: config.publicUrl });
    if (CONTEXTS_WITH_STREAMS.has(context)) relays.push(await bus.startRelay(store));
  }
  return {
    runtimes,
    db,
    bus,
    logger,
    async close() {
      await Promise.all(relays.map((r) => r.stop()));
      // The bus first: in-process consumers commit their last batch while the stores are still open.
      await bus.close();
      await Promise.all(runtimes.map((r) => r.store.close()));
      await db.close();
    },
  };
}
