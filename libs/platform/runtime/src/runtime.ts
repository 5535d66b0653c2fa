import type { EventStore, SqlDatabase } from '@custos/platform/event-store';
import type { MessageBus } from '@custos/platform/messaging';
import type { Logger } from 'pino';

/**
 * What a bounded context tells the platform about itself: the platform knows no context by name,
 * each one registers with its descriptor (exported by its `api` library) when an app composes it.
 */
export interface ContextDescriptor {
  /** Lower-case letters, digits and dashes: it names the context's schema, event types and subjects. */
  name: string;
  /** Whether the context's own streams are published to the bus (a relay from its store); false for a context that only reads others' events. */
  publishesEvents: boolean;
}

/** What one bounded context runs on: its own schema and store, the shared bus, and a clock. */
export interface ContextRuntime {
  /** The context's name (its descriptor's). */
  context: string;
  db: SqlDatabase;
  store: EventStore;
  bus: MessageBus;
  /** The only source of "now" for the context; tests and replays pass their own. */
  clock: () => Date;
  logger: Logger;
  /** Where clients reach Custos (CUSTOS_PUBLIC_URL), for links written into answers. */
  publicUrl: string;
}

/** DI token of a context's runtime inside its NestJS module. */
export const CONTEXT_RUNTIME = Symbol('CONTEXT_RUNTIME');

/** Something a context starts after the HTTP server is up (projections, consumers) and stops on shutdown. */
export interface BackgroundWorker {
  start(): Promise<void>;
  stop(): Promise<void>;
}
