import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import type { NatsStreams } from './nats-streams';

/** Something a NatsBus runs (a relay, a consumer, an RPC server) and stops when it closes. */
export interface Stoppable {
  stop(): Promise<void>;
}

/** What the parts of a NatsBus share: one connection, its JetStream views, the namespace, the streams it ensured, and where it reports errors and registers what it runs. */
export interface NatsLink {
  readonly nc: NatsConnection;
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
  readonly namespace: string;
  readonly streams: NatsStreams;
  /** Records a failure the bus recovers from by itself (for health) and tells the bus's onError. */
  noteError(error: unknown, where: string): void;
  /** Registers something to stop when the bus closes. */
  track(running: Stoppable): void;
  untrack(running: Stoppable): void;
}
