import { AckPolicy, DeliverPolicy, type ConsumerConfig, type JsMsg } from '@nats-io/jetstream';
import { nanos } from '@nats-io/nats-core';
import type { Consumer, DeadLetter, InboundConsumeOptions, InboundMessage } from './bus';
import { deadLetterSubject, streamName, subjectPrefix } from './naming';
import { storeDeadLetter } from './nats-dead-letters';
import type { NatsLink } from './nats-link';
import { ACK_WAIT_MS, oneByOne, PULL_BATCH, runPull } from './nats-pull';
import { DEFAULT_RETRY_DELAY_MS, errorText, retryDelay } from './retry-delay';

/**
 * consumeInbound runs a durable pull consumer over messages from outside Custos (HR systems on
 * `hr.jml.<system>`), creating `stream` over `subjects` (both put in the bus's namespace) when it is missing. The handler's
 * verdict settles each message: `'ack'` acks it; a dead letter stores it with its reason and
 * details on `dlq.<durable>` and terminates it, so a bad message never blocks the ones behind
 * it; a throw naks it for redelivery with a growing delay (unlimited by default: input is not
 * given up because a database was down).
 */
export async function consumeInbound(link: NatsLink, options: InboundConsumeOptions): Promise<Consumer> {
  const { durable } = options;
  const stream = streamName(link.namespace, options.stream);
  const subjects = options.subjects.map((subject) => subjectPrefix(link.namespace) + subject);
  if (subjects.length === 0) throw new Error('consumeInbound needs at least one subject');
  const maxDeliver = options.maxDeliver ?? -1;
  if (!Number.isInteger(maxDeliver) || maxDeliver === 0 || maxDeliver < -1) throw new Error(`maxDeliver must be a positive integer (or -1 for unlimited), got ${maxDeliver}`);
  deadLetterSubject(link.namespace, durable);
  const config: Partial<ConsumerConfig> & { durable_name: string } = {
    durable_name: durable,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    ack_wait: nanos(ACK_WAIT_MS),
    // As for events: one delivery more than the handler gets, so a crash during the last attempt still dead-letters.
    max_deliver: maxDeliver > 0 ? maxDeliver + 1 : -1,
    // One filter per consumer on nats-server 2.9: several subjects read the whole stream.
    ...(subjects.length === 1 ? { filter_subject: subjects[0] } : {}),
  };
  const ensure = async () => {
    await link.streams.ensureStream(stream, subjects);
    await link.streams.ensureConsumer(stream, config);
  };
  await ensure();
  const retryDelayMs = options.retryDelayMs ?? DEFAULT_RETRY_DELAY_MS;
  return runPull(link, stream, durable, PULL_BATCH, ensure, oneByOne((msg) => deliverInbound(link, msg, stream, durable, maxDeliver, retryDelayMs, options.handler)));
}

async function deliverInbound(
  link: NatsLink,
  msg: JsMsg,
  stream: string,
  durable: string,
  maxDeliver: number,
  retryDelayMs: number,
  handler: InboundConsumeOptions['handler'],
): Promise<void> {
  const message: InboundMessage = {
    subject: msg.subject,
    data: msg.data,
    text: () => msg.string(),
    header: (name) => msg.headers?.get(name) || undefined,
    deliveries: msg.info.deliveryCount,
    streamSequence: msg.seq,
  };
  let verdict: Awaited<ReturnType<typeof handler>>;
  try {
    verdict = await handler(message);
  } catch (error) {
    link.noteError(error, `inbound ${durable}`);
    if (maxDeliver > 0 && msg.info.deliveryCount >= maxDeliver) await storeInboundLetter(link, msg, stream, durable, retryDelayMs, errorText(error), undefined);
    else msg.nak(retryDelay(retryDelayMs, msg.info.deliveryCount));
    return;
  }
  if (verdict === 'ack') msg.ack();
  else await storeInboundLetter(link, msg, stream, durable, retryDelayMs, verdict.deadLetter, verdict.details);
}

function storeInboundLetter(link: NatsLink, msg: JsMsg, stream: string, durable: string, retryDelayMs: number, error: string, details: unknown): Promise<void> {
  const letter: DeadLetter = {
    durable,
    eventId: msg.headers?.get('Nats-Msg-Id') || `seq-${msg.seq}`,
    event: null,
    payload: msg.string(),
    subject: msg.subject,
    error,
    ...(details === undefined ? {} : { details }),
    deliveries: msg.info.deliveryCount,
    deadAt: new Date().toISOString(),
  };
  // The stream sequence, not the publisher's id: two bad messages reusing one id are both kept.
  return storeDeadLetter(link, msg, letter, `${durable}:${stream}:${msg.seq}`, retryDelayMs);
}
