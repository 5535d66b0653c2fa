import type { CustosEvent } from '@custos/platform/event-store';
import { AckPolicy, DeliverPolicy, type ConsumerConfig, type JsMsg } from '@nats-io/jetstream';
import { nanos } from '@nats-io/nats-core';
import type { ConsumeOptions, Consumer, DeadLetter } from './bus';
import { contextEventsFilter, contextStreamName, deadLetterSubject, eventSubject } from './naming';
import { storeDeadLetter } from './nats-dead-letters';
import type { NatsLink } from './nats-link';
import { ACK_WAIT_MS, inBatches, oneByOne, PULL_BATCH, runPull } from './nats-pull';
import { DEFAULT_MAX_BATCH, DEFAULT_MAX_DELIVER, DEFAULT_RETRY_DELAY_MS, errorText, nonNegative, positiveInteger, retryDelay } from './retry-delay';

interface Delivery {
  durable: string;
  names: ReadonlySet<string> | undefined;
  maxDeliver: number;
  retryDelayMs: number;
  handler: ConsumeOptions['handler'];
  batchHandler: ConsumeOptions['batchHandler'];
}

/**
 * consumeEvents runs a durable pull consumer: each event is acked after `handler` resolves,
 * redelivered with a growing delay after it throws, and after `maxDeliver` failed deliveries
 * written to the dead-letter stream and terminated. Replicas using the same durable share the
 * events. With a `batchHandler`, the events waiting in hand go to it together and are acked
 * together; a batch that fails is handed to `handler` one event at a time, as without one.
 */
export async function consumeEvents(link: NatsLink, options: ConsumeOptions): Promise<Consumer> {
  const { durable, context } = options;
  const maxDeliver = positiveInteger('maxDeliver', options.maxDeliver ?? DEFAULT_MAX_DELIVER);
  const maxBatch = positiveInteger('maxBatch', options.maxBatch ?? DEFAULT_MAX_BATCH);
  const lingerMs = nonNegative('lingerMs', options.lingerMs ?? 0);
  deadLetterSubject(link.namespace, durable);
  const names = options.eventNames && options.eventNames.length > 0 ? new Set(options.eventNames) : undefined;
  const stream = contextStreamName(link.namespace, context);
  // nats-server 2.9 has one filter subject per consumer: several names are filtered here instead.
  const filter = names?.size === 1 ? eventSubject(link.namespace, context, [...names][0]) : contextEventsFilter(link.namespace, context);
  const config: Partial<ConsumerConfig> & { durable_name: string } = {
    durable_name: durable,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    ack_wait: nanos(ACK_WAIT_MS),
    // One delivery more than the handler gets: if a process dies during the last attempt, the
    // server still hands the message over once more, and it is dead-lettered instead of dropped.
    max_deliver: maxDeliver + 1,
    filter_subject: filter,
    // No server-side `backoff`: on 2.9 it overrides the delay given with a nak.
  };
  const ensure = async () => {
    await link.streams.ensureContextStream(context);
    await link.streams.ensureConsumer(stream, config);
  };
  await ensure();

  const delivery = new EventDelivery(link, {
    durable,
    names,
    maxDeliver,
    retryDelayMs: options.retryDelayMs ?? DEFAULT_RETRY_DELAY_MS,
    handler: options.handler,
    batchHandler: options.batchHandler,
  });
  if (!options.batchHandler) return runPull(link, stream, durable, PULL_BATCH, ensure, oneByOne((msg) => delivery.deliver(msg)));
  // A pull of at least a full batch, so that a backlog can fill one.
  return runPull(link, stream, durable, Math.max(PULL_BATCH, maxBatch), ensure, async (messages, inHand) => {
    for await (const batch of inBatches(messages, maxBatch, (msg) => inHand.add(msg), { lingerMs })) {
      try {
        await delivery.deliverBatch(batch);
      } finally {
        batch.forEach((msg) => inHand.settled(msg));
      }
    }
  });
}

/** How the messages of one event consumer are settled: handled and acked, nak'd for redelivery, or dead-lettered. */
class EventDelivery {
  constructor(
    private readonly link: NatsLink,
    private readonly d: Delivery,
  ) {}

  async deliver(msg: JsMsg): Promise<void> {
    const event = await this.admit(msg);
    if (event) await this.handleOne(msg, event);
  }

  /**
   * deliverBatch hands the events of `msgs` to the batch handler in one call and acks them all
   * once it resolves. If it throws, each goes to `handler` alone, so only a bad one is retried.
   * A batch of one goes there at once: the batch handler would add nothing but a second attempt.
   */
  async deliverBatch(msgs: JsMsg[]): Promise<void> {
    const admitted: Array<{ msg: JsMsg; event: CustosEvent }> = [];
    for (const msg of msgs) {
      const event = await this.admit(msg);
      if (event) admitted.push({ msg, event });
    }
    const { batchHandler } = this.d;
    if (batchHandler && admitted.length > 1) {
      const batch = admitted.map(({ msg }) => msg);
      const handled = await batchHandler(admitted.map(({ event }) => event)).then(
        () => true,
        (error: unknown) => {
          this.link.noteError(error, `batch ${this.d.durable}`);
          return false;
        },
      );
      if (handled) {
        batch.forEach((msg) => msg.ack());
        return;
      }
    }
    for (const { msg, event } of admitted) await this.handleOne(msg, event);
  }

  /** admit returns the event of a message that is the handler's to try, and settles any other: acks one not asked for, dead-letters one that is not an event or has no attempt left. */
  private async admit(msg: JsMsg): Promise<CustosEvent | undefined> {
    const eventName = msg.subject.slice(msg.subject.lastIndexOf('.') + 1);
    if (this.d.names && !this.d.names.has(eventName)) {
      msg.ack();
      return undefined;
    }
    let event: CustosEvent;
    try {
      event = msg.json<CustosEvent>();
    } catch (error) {
      await this.deadLetter(msg, null, error);
      return undefined;
    }
    if (msg.info.deliveryCount > this.d.maxDeliver) {
      await this.deadLetter(msg, event, new Error(`no attempt completed within ${this.d.maxDeliver} deliveries (the handling process stopped)`));
      return undefined;
    }
    return event;
  }

  /** handleOne acks the message once `handler` handled its event; after a throw, naks it for redelivery or, on its last delivery, dead-letters it. */
  private async handleOne(msg: JsMsg, event: CustosEvent): Promise<void> {
    let failure: { error: unknown } | undefined;
    try {
      await this.d.handler(event);
    } catch (error) {
      failure = { error };
    }
    if (!failure) msg.ack();
    else if (msg.info.deliveryCount >= this.d.maxDeliver) await this.deadLetter(msg, event, failure.error);
    else msg.nak(retryDelay(this.d.retryDelayMs, msg.info.deliveryCount));
  }

  private async deadLetter(msg: JsMsg, event: CustosEvent | null, error: unknown): Promise<void> {
    const letter: DeadLetter = {
      durable: this.d.durable,
      eventId: event?.id ?? msg.headers?.get('Ce-Id') ?? `seq-${msg.seq}`,
      event,
      error: errorText(error),
      deliveries: msg.info.deliveryCount,
      deadAt: new Date().toISOString(),
    };
    if (event === null) letter.payload = msg.string();
    await storeDeadLetter(this.link, msg, letter, `${this.d.durable}:${letter.eventId}`, this.d.retryDelayMs);
  }
}
