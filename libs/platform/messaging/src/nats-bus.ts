import type { EventStore } from '@custos/platform/event-store';
import { jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import type { ConsumeOptions, Consumer, DeadLetter, InboundConsumeOptions, MessageBus, Relay, RpcHandler, RpcOptions } from './bus';
import { natsAuthenticator, type NatsAuth } from './nats-auth';
import { busNamespace, subjectPrefix, subjectToken } from './naming';
import { consumeEvents } from './nats-consumers';
import { listDeadLetters } from './nats-dead-letters';
import { consumeInbound } from './nats-inbound';
import type { NatsLink, Stoppable } from './nats-link';
import { startNatsRelay } from './nats-relay';
import { requestRpc, serveRpc } from './nats-rpc';
import { NatsStreams } from './nats-streams';

export { ACK_WAIT_MS } from './nats-pull';
export { RPC_ERROR_HEADER } from './nats-rpc';

export interface NatsBusOptions {
  /** One URL or several, comma-separated (`nats://a:4222,nats://b:4222`). */
  servers: string;
  /** Prefix of every subject and stream; default `CUSTOS_NAMESPACE`, empty in production. */
  namespace?: string;
  /** Connection name shown by the server (`entitlement-service`). */
  name?: string;
  /** JetStream replicas for streams this bus creates. Default 1. */
  replicas?: number;
  /** Told about failures the bus recovers from by itself (relay retries, consumer restarts), for logging. */
  onError?: (error: unknown, where: string) => void;
  /** Credentials (an nkey seed or .creds file, or user and password); none: an unauthenticated connection. */
  auth?: NatsAuth;
  /**
   * First token of the reply subjects of this connection's requests (RPC, JetStream API, pulls),
   * default `_INBOX`. A service gets its own (`_INBOX_identity-service`) so that the server's
   * permissions let it read only its own replies (deploy/nats/custos-auth.conf).
   */
  inboxPrefix?: string;
}

/**
 * NatsBus is the distributed MessageBus: a relay from the event store into one JetStream stream
 * per context (nats-relay), durable pull consumers with explicit acks (nats-consumers, and
 * nats-inbound for messages from outside Custos) and a dead-letter stream (nats-dead-letters),
 * and core NATS request-reply in queue groups (nats-rpc). It owns the connection and stops what
 * its parts run when it closes.
 */
export class NatsBus implements MessageBus {
  readonly kind = 'nats' as const;
  private readonly link: NatsLink;
  private readonly running = new Set<Stoppable>();
  private connected = true;
  private lastError: { where: string; message: string; at: string } | undefined;
  private closing: Promise<void> | undefined;

  private constructor(
    private readonly nc: NatsConnection,
    jsm: JetStreamManager,
    readonly namespace: string,
    replicas: number,
    private readonly onError: NatsBusOptions['onError'],
  ) {
    const js: JetStreamClient = jsm.jetstream();
    this.link = {
      nc,
      js,
      jsm,
      namespace,
      streams: new NatsStreams(jsm, namespace, replicas),
      noteError: (error, where) => this.noteError(error, where),
      track: (s) => void this.running.add(s),
      untrack: (s) => void this.running.delete(s),
    };
    void this.watchConnection();
  }

  /** connect opens a connection with unlimited reconnects and fails unless the server has JetStream. */
  static async connect(options: NatsBusOptions): Promise<NatsBus> {
    const namespace = options.namespace ?? busNamespace();
    subjectPrefix(namespace);
    if (options.inboxPrefix !== undefined) subjectToken('inbox prefix', options.inboxPrefix);
    const nc = await connect({
      servers: options.servers.split(',').map((s) => s.trim()).filter(Boolean),
      name: options.name,
      ...(options.auth ? { authenticator: natsAuthenticator(options.auth) } : {}),
      ...(options.inboxPrefix ? { inboxPrefix: options.inboxPrefix } : {}),
      maxReconnectAttempts: -1,
      // Without this, every request and JetStream publish builds an Error up front (a stack
      // capture) in case it fails: about 3% of the app's CPU under HR load. A timeout still
      // rejects with a TimeoutError naming what timed out, only without the caller's stack.
      noAsyncTraces: true,
    });
    try {
      const jsm = await jetstreamManager(nc);
      return new NatsBus(nc, jsm, namespace, options.replicas ?? 1, options.onError);
    } catch (error) {
      await nc.close();
      throw error;
    }
  }

  startRelay(store: EventStore): Promise<Relay> {
    return startNatsRelay(this.link, store);
  }

  consume(options: ConsumeOptions): Promise<Consumer> {
    return consumeEvents(this.link, options);
  }

  consumeInbound(options: InboundConsumeOptions): Promise<Consumer> {
    return consumeInbound(this.link, options);
  }

  deadLetters(durable: string): Promise<DeadLetter[]> {
    return listDeadLetters(this.link, durable);
  }

  serve(subject: string, handler: RpcHandler): Promise<{ stop(): Promise<void> }> {
    return serveRpc(this.link, subject, handler);
  }

  request<T = unknown>(subject: string, payload: unknown, options?: RpcOptions): Promise<T> {
    return requestRpc<T>(this.link, subject, payload, options);
  }

  /** health is ok while the connection is up and answers a ping within 2 s. */
  async health(): Promise<{ ok: boolean; detail: string }> {
    if (this.nc.isClosed()) return { ok: false, detail: 'nats: connection closed' };
    if (!this.connected) return { ok: false, detail: 'nats: disconnected, reconnecting' };
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), 2_000)));
    const rtt = await Promise.race([this.nc.rtt(), timeout])
      .catch(() => undefined)
      .finally(() => clearTimeout(timer));
    if (rtt === undefined) return { ok: false, detail: `nats: ${this.nc.getServer()} does not answer pings` };
    const last = this.lastError ? `; last recovered error (${this.lastError.where}, ${this.lastError.at}): ${this.lastError.message}` : '';
    return { ok: true, detail: `nats: connected to ${this.nc.getServer()}, rtt ${rtt} ms${last}` };
  }

  /** close stops relays, consumers and servers of this bus, then drains the connection so no ack or answer is lost. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await Promise.allSettled([...this.running].map((s) => s.stop()));
      if (!this.nc.isClosed()) await this.nc.drain();
    })();
    return this.closing;
  }

  private noteError(error: unknown, where: string): void {
    this.lastError = { where, message: error instanceof Error ? error.message : String(error), at: new Date().toISOString() };
    this.onError?.(error, where);
  }

  private async watchConnection(): Promise<void> {
    for await (const status of this.nc.status()) {
      if (status.type === 'disconnect') this.connected = false;
      else if (status.type === 'reconnect') this.connected = true;
      // A permissions violation (a misconfigured server, or a service doing what it must not) shows in health and logs.
      else if (status.type === 'error') this.noteError(status.error, 'nats connection');
    }
  }
}
