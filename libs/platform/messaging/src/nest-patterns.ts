/**
 * The pattern (Nest's "metadata") of an `@EventPattern` handler on the bus transport: a durable
 * consumer of one context's published events. The handler receives one CustosEvent, or with
 * `batch: true` an array of them in delivery order (see ConsumeOptions.batchHandler): it must then
 * apply them all or none (one transaction), with the effect of applying each in turn. The
 * durable name makes the pattern unique, so two consumers of one context never share a handler.
 *
 * ```ts
 * @EventPattern({ durable: 'entitlement-identity-lifecycle', context: 'identity', batch: true } satisfies DurableEvents)
 * identityChanged(@Payload() events: CustosEvent[]) { ... }
 * ```
 */
export interface DurableEvents {
  /** Durable consumer name, shared by every replica of the consuming service. */
  durable: string;
  /** The context whose events to consume (`identity`). */
  context: string;
  /** Only these event names; all of the context's events when omitted. */
  eventNames?: string[];
  /** The handler takes arrays: a lone event at once, under load what arrived meanwhile (up to maxBatch). */
  batch?: boolean;
  maxBatch?: number;
  /** Deliveries before an event is dead-lettered. Default 5. */
  maxDeliver?: number;
  retryDelayMs?: number;
  /** A background consumer's linger (ConsumeOptions.lingerMs): only for work that nobody waits on. */
  lingerMs?: number;
}

/**
 * The pattern of an `@EventPattern` handler for messages from outside Custos (HR systems on
 * `hr.jml.<system>`): a durable consumer of a JetStream stream that the bus creates over
 * `subjects` when missing. Names carry no namespace: the bus adds its own. The handler receives
 * an InboundMessage and returns an InboundVerdict (`'ack'` or a dead letter); throwing means
 * "not now" and the message is redelivered. Only a bus with `consumeInbound` (NATS) opens it;
 * on the in-process bus the transport logs that the door is off.
 */
export interface InboundEvents {
  durable: string;
  /** The JetStream stream (`CUSTOS_HR`). */
  stream: string;
  /** The subjects the stream holds and the consumer reads (`hr.jml.*`). */
  subjects: string[];
  /** Deliveries of a message whose handler keeps throwing before it is dead-lettered. Default unlimited. */
  maxDeliver?: number;
  retryDelayMs?: number;
}

export function isDurableEvents(pattern: unknown): pattern is DurableEvents {
  const p = pattern as Partial<DurableEvents> | null;
  return typeof p === 'object' && p !== null && typeof p.durable === 'string' && typeof p.context === 'string';
}

export function isInboundEvents(pattern: unknown): pattern is InboundEvents {
  const p = pattern as Partial<InboundEvents> | null;
  return typeof p === 'object' && p !== null && typeof p.durable === 'string' && typeof p.stream === 'string' && Array.isArray(p.subjects);
}
