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
}

export interface Consumer {
  stop(): Promise<void>;
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
  /** Liveness for /health. */
  health(): Promise<{ ok: boolean; detail: string }>;
  /** The events a durable consumer gave up on, oldest first (optional: for operators and tests). */
  deadLetters?(durable: string): Promise<DeadLetter[]>;
  close(): Promise<void>;
}

/** An event that a durable consumer failed to handle `deliveries` times, kept for an operator to inspect and replay. */
export interface DeadLetter {
  durable: string;
  eventId: string;
  /** The event as delivered; null when the message was not a parseable event. */
  event: CustosEvent | null;
  /** The raw message text, kept only when it was not a parseable event. */
  payload?: string;
  error: string;
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
