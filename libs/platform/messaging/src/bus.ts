import type { CustosEvent, EventStore } from '@custos/platform/event-store';

/** Subject and stream names, with an optional namespace so that test runs never share them. */
export interface BusNaming {
  /** e.g. `t4f2a`: subjects become `t4f2a.evt.identity.IdentityHired`, streams `T4F2A_CUSTOS_IDENTITY`. Empty in production. */
  namespace: string;
}

export interface ConsumeOptions {
  /** Durable consumer name, shared by every replica of the consuming service (`entitlement-birthright`). */
  durable: string;
  /** The context whose events to consume (`identity`). */
  context: string;
  /** Only these event names (`IdentityHired`); all of the context's events when omitted. */
  eventNames?: string[];
  /** Deliveries before an event is dead-lettered. Default 5. */
  maxDeliver?: number;
  /** Delay before the first redelivery of a failed event; doubles per attempt, capped at 30 s. Default 200 ms. */
  retryDelayMs?: number;
  /** Handle one event. Throwing means "not handled": it is redelivered, up to maxDeliver. Must be idempotent. */
  handler: (event: CustosEvent) => Promise<void>;
  /**
   * Optional: handle several events at once (in one transaction, say), in delivery order. It must
   * have exactly the effect of `handler` on each event in turn, and be all-or-nothing. Both buses
   * batch as a group commit does: a lone event goes at once, and the events that arrive while a
   * batch is being handled make the next one (up to `maxBatch`), so batches grow only under load
   * and nothing waits on a timer. If it throws, the bus falls back to `handler` one event at a
   * time for that batch, so one bad event is retried and dead-lettered alone.
   */
  batchHandler?: (events: CustosEvent[]) => Promise<void>;
  /** Most events given to one batchHandler call. Default 64. */
  maxBatch?: number;
  /**
   * A background consumer's linger: after an event arrives at an idle consumer, wait this long
   * (or until a batch is full) before handling, so that work nobody waits on (the audit log) runs
   * after the changes a user waits on rather than beside them, and in fewer, larger batches.
   * Default 0: a lone event goes at once.
   */
  lingerMs?: number;
}

export interface Consumer {
  stop(): Promise<void>;
}

/**
 * What an inbound handler decided about one message: `'ack'` when it was handled (or was a
 * duplicate), a dead letter when it can never be handled as it is (invalid input, a domain
 * refusal). Throwing means "not now" (the database is down): the message is redelivered.
 */
export type InboundVerdict = 'ack' | { deadLetter: string; details?: unknown };

/** One message from outside Custos (an HR system publishing to `hr.jml.<system>`), as delivered. */
export interface InboundMessage {
  /** The full subject, namespace included. */
  subject: string;
  data: Uint8Array;
  /** The body as UTF-8 text. */
  text(): string;
  /** A header value (`Nats-Msg-Id`, a correlation id), if the publisher set it. */
  header(name: string): string | undefined;
  /** 1 on first delivery. */
  deliveries: number;
  /** The message's sequence in its stream. */
  streamSequence: number;
}

export interface InboundConsumeOptions {
  /** The JetStream stream (`CUSTOS_HR`), created over `subjects` when missing. Without namespace: the bus adds its own. */
  stream: string;
  /** The subjects the stream holds and the consumer reads (`hr.jml.*`). Without namespace: the bus adds its own. */
  subjects: string[];
  /** Durable consumer name, shared by every replica; its dead letters go to `dlq.<durable>`. */
  durable: string;
  /** Deliveries of a message whose handler keeps throwing before it is dead-lettered. Default: unlimited (a database outage must not cost input). */
  maxDeliver?: number;
  /** Delay before the first redelivery after a throw; doubles per attempt, capped at 30 s. Default 200 ms. */
  retryDelayMs?: number;
  handler: (message: InboundMessage) => Promise<InboundVerdict>;
}

export type RpcHandler = (payload: unknown) => Promise<unknown>;

export interface RpcOptions {
  timeoutMs?: number;
}

/**
 * The messaging port. Domain events reach other contexts only through the relay (store ->
 * bus), never by a request handler publishing directly. Request-reply carries queries and
 * commands between contexts.
 */
export interface MessageBus {
  readonly kind: 'nats' | 'in-process';
  /** Start publishing every event of `store` to `evt.<context>.<EventName>`, resuming from the relay's checkpoint. */
  startRelay(store: EventStore): Promise<Relay>;
  /** A durable, at-least-once consumer of one context's events. */
  consume(options: ConsumeOptions): Promise<Consumer>;
  /**
   * Answer requests on `rpc.<context>.<name>`; replicas share the work (queue group). Subjects
   * given to `serve` and `request` carry no namespace: the bus adds its own.
   */
  serve(subject: string, handler: RpcHandler): Promise<{ stop(): Promise<void> }>;
  request<T = unknown>(subject: string, payload: unknown, options?: RpcOptions): Promise<T>;
  /**
   * A durable consumer of messages from outside Custos (HR systems publishing to `hr.jml.<system>`),
   * settled by the handler's verdict. Only NATS has it: in the embedded mode outside systems use HTTP.
   */
  consumeInbound?(options: InboundConsumeOptions): Promise<Consumer>;
  /** Liveness for /health. */
  health(): Promise<{ ok: boolean; detail: string }>;
  /** The events a durable consumer gave up on, oldest first (optional: for operators and tests). */
  deadLetters?(durable: string): Promise<DeadLetter[]>;
  close(): Promise<void>;
}

/** An event that a durable consumer failed to handle `deliveries` times (or an inbound message it refused), kept for an operator to inspect and replay. */
export interface DeadLetter {
  durable: string;
  eventId: string;
  /** The event as delivered; null when the message was not a parseable event. */
  event: CustosEvent | null;
  /** The raw message text, kept only when it was not a parseable event. */
  payload?: string;
  /** Where an inbound message was published (inbound consumers only). */
  subject?: string;
  error: string;
  /** Structured reasons (inbound consumers: the validation errors, one per bad field). */
  details?: unknown;
  deliveries: number;
  /** RFC 3339 UTC. */
  deadAt: string;
}

export interface Relay {
  /** Resolves once every event now in the store has been published. */
  caughtUp(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A request answered with an error by the remote handler (its `status`, default 500), or not
 * answered: 503 when nobody serves the subject, 504 when no answer came within the timeout.
 */
export class RpcError extends Error {
  constructor(
    readonly subject: string,
    readonly status: number,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'RpcError';
  }
}
