import type { CustosEvent, EventStore } from '@custos/platform/event-store';
import {
  AckPolicy,
  DeliverPolicy,
  JetStreamApiError,
  jetstreamManager,
  StorageType,
  type ConsumerConfig,
  type ConsumerMessages,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
} from '@nats-io/jetstream';
import { headers, nanos, RequestError, TimeoutError, type Msg, type NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import {
  RpcError,
  type ConsumeOptions,
  type Consumer,
  type DeadLetter,
  type InboundConsumeOptions,
  type InboundMessage,
  type MessageBus,
  type Relay,
  type RpcHandler,
  type RpcOptions,
} from './bus';
import {
  busNamespace,
  contextEventsFilter,
  contextStreamName,
  deadLetterStreamName,
  deadLetterSubject,
  eventNameOf,
  eventSubject,
  subjectPrefix,
} from './naming';
import { DEFAULT_MAX_BATCH, DEFAULT_MAX_DELIVER, DEFAULT_RETRY_DELAY_MS, errorText, positiveInteger, retryDelay } from './retry-delay';
import { rpcErrorBody, rpcErrorFromBody, type RpcErrorBody } from './rpc-envelope';

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
}

/** The header that marks an RPC answer as an error, so a result that happens to hold an `error` key stays a result. */
export const RPC_ERROR_HEADER = 'Custos-Rpc-Error';

const DUPLICATE_WINDOW_MS = 120_000;
/**
 * How long the server waits for a delivered message's ack before redelivering it. Short, so that
 * the messages of a consumer that died (a killed process) reach a live one within seconds; a
 * live consumer reports every message it holds as in progress every WORKING_EVERY_MS (InHand),
 * so a long batch or a slow handler is not redelivered meanwhile.
 */
export const ACK_WAIT_MS = 5_000;
/** A fifth of the ack wait: an event loop held up for a few seconds still reports in time. */
const WORKING_EVERY_MS = ACK_WAIT_MS / 5;
const RELAY_BATCH_SIZE = 256;
// Small pulls keep work spread across replicas and bound what a stopping consumer must finish.
const PULL_BATCH = 32;
const RESTART_DELAY_MS = 1_000;

type Stoppable = { stop(): Promise<void> };

interface Delivery {
  durable: string;
  names: ReadonlySet<string> | undefined;
  maxDeliver: number;
  retryDelayMs: number;
  handler: ConsumeOptions['handler'];
  batchHandler: ConsumeOptions['batchHandler'];
}

/** What runPull does with the messages of one `consume()` iterator, until it ends; it puts each message it takes in `inHand` until settled. */
type Drain = (messages: ConsumerMessages, inHand: InHand) => Promise<void>;

/**
 * InHand holds the messages a consumer has taken from its iterator and not yet settled (waiting
 * for their batch, or being handled), and tells the server every WORKING_EVERY_MS that they are
 * in progress (`+WPI`), which restarts their ack wait. One timer per consumer, running only while
 * something is in hand. Messages still in the client's pull buffer (at most one pull, taken once
 * the batch in flight ends) are not reported: only a batch slower than the ack wait lets those
 * be redelivered, and a redelivered copy is handled once (consumers are idempotent).
 */
class InHand {
  private readonly msgs = new Set<JsMsg>();
  private timer: NodeJS.Timeout | undefined;

  add(msg: JsMsg): void {
    this.msgs.add(msg);
    this.timer ??= setInterval(() => this.msgs.forEach((m) => m.working()), WORKING_EVERY_MS);
  }

  /** Call once the message is acked, nak'd or terminated. */
  settled(msg: JsMsg): void {
    this.msgs.delete(msg);
    if (this.msgs.size === 0) this.clear();
  }

  /** Forgets every message (their iterator ended or failed): the server redelivers what was not settled. */
  clear(): void {
    this.msgs.clear();
    clearInterval(this.timer);
    this.timer = undefined;
  }
}

function isApiError(error: unknown, code: number): boolean {
  return error instanceof JetStreamApiError && error.code === code;
}

const STREAM_NOT_FOUND = 10059;
const STREAM_NAME_IN_USE = 10058;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** oneByOne hands each message to `onMessage`, the next only once it is settled. */
function oneByOne(onMessage: (msg: JsMsg) => Promise<void>): Drain {
  return async (messages, inHand) => {
    for await (const msg of messages) {
      inHand.add(msg);
      try {
        await onMessage(msg);
      } finally {
        inHand.settled(msg);
      }
    }
  };
}

/** How long a busy batch consumer lets its next batch fill (see inBatches). */
const BUSY_LINGER_MS = 15;

/**
 * inBatches yields the messages of `messages` in arrays of at most `max`, each holding what has
 * arrived by then, the way a group commit forms its batches: an idle consumer never waits for a
 * second message, so a lone one goes at once. When messages arrived while the previous batch was
 * handled (a busy moment), the next batch waits up to `busyLingerMs` to fill, unless it fills
 * first: under load, few large batches (fewer transactions per event), and no delay when quiet.
 * A pump moves messages from the iterator into `waiting` (telling `onArrival`), pausing at `max`
 * so that no more sit there than one batch.
 */
async function* inBatches<T>(messages: AsyncIterable<T>, max: number, onArrival: (message: T) => void, busyLingerMs = BUSY_LINGER_MS): AsyncGenerator<T[]> {
  const waiting: T[] = [];
  let arrived: (() => void) | undefined;
  let lingering: (() => void) | undefined;
  let taken: (() => void) | undefined;
  let abandoned = false;
  let busy = false;
  let ended = false;
  let failure: { error: unknown } | undefined;
  const pump = async () => {
    try {
      for await (const message of messages) {
        onArrival(message);
        waiting.push(message);
        arrived?.();
        if (waiting.length >= max) lingering?.();
        if (waiting.length >= max) await new Promise<void>((resolve) => (taken = resolve));
        // Leaving the loop ends the iterator, as the consumer of the batches left.
        if (abandoned) break;
      }
    } catch (error) {
      failure = { error };
    }
    ended = true;
    arrived?.();
    lingering?.();
  };
  void pump();
  try {
    for (;;) {
      if (waiting.length === 0 && !ended) await new Promise<void>((resolve) => (arrived = resolve));
      // The iterator hands over what it already holds in microtasks: one turn of the event loop
      // lets all of it reach `waiting`, without waiting on the network.
      await new Promise((resolve) => setImmediate(resolve));
      if (busy && busyLingerMs > 0 && waiting.length > 0 && waiting.length < max && !ended) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(() => lingering?.(), busyLingerMs);
          lingering = () => {
            clearTimeout(timer);
            lingering = undefined;
            resolve();
          };
        });
      }
      if (waiting.length > 0) {
        const batch = waiting.splice(0, max);
        taken?.();
        yield batch;
        // Handled: whatever arrived meanwhile says how busy it is.
        busy = waiting.length > 0;
      } else if (ended) {
        break;
      }
    }
  } finally {
    abandoned = true;
    taken?.();
  }
  if (failure) throw failure.error;
}

/**
 * NatsBus is the distributed MessageBus: a relay from the event store into one JetStream stream
 * per context, durable pull consumers with explicit acks and a dead-letter stream, and core
 * NATS request-reply in queue groups.
 */
export class NatsBus implements MessageBus {
  readonly kind = 'nats' as const;
  private readonly stoppables = new Set<Stoppable>();
  private readonly streams = new Map<string, Promise<void>>();
  private readonly js: JetStreamClient;
  private connected = true;
  private lastError: { where: string; message: string; at: string } | undefined;
  private closing: Promise<void> | undefined;

  private constructor(
    private readonly nc: NatsConnection,
    private readonly jsm: JetStreamManager,
    readonly namespace: string,
    private readonly replicas: number,
    private readonly onError: NatsBusOptions['onError'],
  ) {
    this.js = jsm.jetstream();
    void this.watchConnection();
  }

  /** connect opens a connection with unlimited reconnects and fails unless the server has JetStream. */
  static async connect(options: NatsBusOptions): Promise<NatsBus> {
    const namespace = options.namespace ?? busNamespace();
    subjectPrefix(namespace);
    const nc = await connect({
      servers: options.servers.split(',').map((s) => s.trim()).filter(Boolean),
      name: options.name,
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

  /**
   * startRelay publishes every event of `store`, in commit order, with the event id as the
   * JetStream dedupe id; a batch's checkpoint commits only after JetStream acknowledged all of it,
   * so a crash republishes at most that batch and the duplicate window drops the copies.
   */
  async startRelay(store: EventStore): Promise<Relay> {
    const context = store.context;
    await this.ensureContextStream(context);
    const name = this.namespace === '' ? 'relay:nats' : `relay:nats:${this.namespace}`;
    const subscription = store.subscribe(name, (events) => this.publishBatch(context, events), {
      batchSize: RELAY_BATCH_SIZE,
      // Publishing writes nothing to the database: the checkpoint is one statement, no transaction.
      transactional: false,
      onError: (error) => this.noteError(error, `relay ${context}`),
    });
    const relay: Relay = {
      caughtUp: () => subscription.caughtUp(),
      stop: async () => {
        this.stoppables.delete(relay);
        await subscription.stop();
      },
    };
    this.stoppables.add(relay);
    return relay;
  }

  private async publishBatch(context: string, events: CustosEvent[]): Promise<void> {
    // Pipelined: all publishes go out before the first ack is awaited.
    await Promise.all(
      events.map((event) => {
        const h = headers();
        h.set('Ce-Id', event.id);
        h.set('Ce-Type', event.type);
        h.set('Ce-Source', event.source);
        h.set('Ce-Subject', event.subject);
        return this.js.publish(eventSubject(this.namespace, context, eventNameOf(event)), JSON.stringify(event), {
          msgID: event.id,
          headers: h,
        });
      }),
    );
  }

  /**
   * consume runs a durable pull consumer: each event is acked after `handler` resolves, redelivered
   * with a growing delay after it throws, and after `maxDeliver` failed deliveries written to the
   * dead-letter stream and terminated. Replicas using the same durable share the events. With a
   * `batchHandler`, the events waiting in hand go to it together and are acked together; a
   * batch that fails is handed to `handler` one event at a time, as without one.
   */
  async consume(options: ConsumeOptions): Promise<Consumer> {
    const { durable, context } = options;
    const maxDeliver = positiveInteger('maxDeliver', options.maxDeliver ?? DEFAULT_MAX_DELIVER);
    const maxBatch = positiveInteger('maxBatch', options.maxBatch ?? DEFAULT_MAX_BATCH);
    deadLetterSubject(this.namespace, durable);
    const names = options.eventNames && options.eventNames.length > 0 ? new Set(options.eventNames) : undefined;
    const stream = contextStreamName(this.namespace, context);
    // nats-server 2.9 has one filter subject per consumer: several names are filtered here instead.
    const filter = names?.size === 1 ? eventSubject(this.namespace, context, [...names][0]) : contextEventsFilter(this.namespace, context);
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
      await this.ensureContextStream(context);
      await this.ensureConsumer(stream, config);
    };
    await ensure();

    const delivery: Delivery = {
      durable,
      names,
      maxDeliver,
      retryDelayMs: options.retryDelayMs ?? DEFAULT_RETRY_DELAY_MS,
      handler: options.handler,
      batchHandler: options.batchHandler,
    };
    if (!options.batchHandler) return this.runPull(stream, durable, PULL_BATCH, ensure, oneByOne((msg) => this.deliver(msg, delivery)));
    // A pull of at least a full batch, so that a backlog can fill one.
    return this.runPull(stream, durable, Math.max(PULL_BATCH, maxBatch), ensure, async (messages, inHand) => {
      for await (const batch of inBatches(messages, maxBatch, (msg) => inHand.add(msg))) {
        try {
          await this.deliverBatch(batch, delivery);
        } finally {
          batch.forEach((msg) => inHand.settled(msg));
        }
      }
    });
  }

  /**
   * consumeInbound runs a durable pull consumer over messages from outside Custos (HR systems on
   * `hr.jml.<system>`), creating `stream` over `subjects` when it is missing. The handler's
   * verdict settles each message: `'ack'` acks it; a dead letter stores it with its reason and
   * details on `dlq.<durable>` and terminates it, so a bad message never blocks the ones behind
   * it; a throw naks it for redelivery with a growing delay (unlimited by default: input is not
   * given up because a database was down).
   */
  async consumeInbound(options: InboundConsumeOptions): Promise<Consumer> {
    const { stream, subjects, durable } = options;
    if (subjects.length === 0) throw new Error('consumeInbound needs at least one subject');
    const maxDeliver = options.maxDeliver ?? -1;
    if (!Number.isInteger(maxDeliver) || maxDeliver === 0 || maxDeliver < -1) throw new Error(`maxDeliver must be a positive integer (or -1 for unlimited), got ${maxDeliver}`);
    deadLetterSubject(this.namespace, durable);
    const config: Partial<ConsumerConfig> & { durable_name: string } = {
      durable_name: durable,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ack_wait: nanos(ACK_WAIT_MS),
      // As for consume: one delivery more than the handler gets, so a crash during the last attempt still dead-letters.
      max_deliver: maxDeliver > 0 ? maxDeliver + 1 : -1,
      // One filter per consumer on nats-server 2.9: several subjects read the whole stream.
      ...(subjects.length === 1 ? { filter_subject: subjects[0] } : {}),
    };
    const ensure = async () => {
      await this.ensureStream(stream, subjects);
      await this.ensureConsumer(stream, config);
    };
    await ensure();
    const retryDelayMs = options.retryDelayMs ?? DEFAULT_RETRY_DELAY_MS;
    return this.runPull(stream, durable, PULL_BATCH, ensure, oneByOne((msg) => this.deliverInbound(msg, stream, durable, maxDeliver, retryDelayMs, options.handler)));
  }

  /**
   * runPull pulls from one durable consumer, `pullBatch` messages at most in hand, and drains them
   * until stopped, restarting after errors (a deleted stream or consumer is re-created).
   */
  private runPull(stream: string, durable: string, pullBatch: number, ensure: () => Promise<void>, drain: Drain): Consumer {
    let stopping = false;
    let messages: ConsumerMessages | undefined;
    const inHand = new InHand();
    const run = async () => {
      while (!stopping && !this.nc.isClosed()) {
        try {
          const jsConsumer = await this.js.consumers.get(stream, durable);
          messages = await jsConsumer.consume({ max_messages: pullBatch });
          // close() settles only once the iterator reaches its end: never await it before draining.
          if (stopping) void messages.close();
          // After close() the iterator still yields what was already pulled: those are handled, not abandoned.
          await drain(messages, inHand);
        } catch (error) {
          // A drain that failed may have left its iterator open: no more pulls for it.
          void messages?.close();
          if (stopping || this.nc.isClosed()) break;
          this.noteError(error, `consumer ${durable}`);
        }
        // What was taken from the ended iterator and not settled is the server's to redeliver.
        inHand.clear();
        if (stopping || this.nc.isClosed()) break;
        await sleep(RESTART_DELAY_MS);
        // The stream or consumer may have been deleted underneath us.
        this.streams.delete(stream);
        await ensure().catch((error) => this.noteError(error, `consumer ${durable}`));
      }
    };
    const done = run().finally(() => inHand.clear());
    const consumer: Consumer = {
      stop: async () => {
        stopping = true;
        void messages?.close();
        await done;
        this.stoppables.delete(consumer);
        // Acks are fire-and-forget: flush so the next consumer on any connection sees them.
        if (!this.nc.isClosed()) await this.nc.flush().catch(() => undefined);
      },
    };
    this.stoppables.add(consumer);
    return consumer;
  }

  private async deliverInbound(
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
      this.noteError(error, `inbound ${durable}`);
      if (maxDeliver > 0 && msg.info.deliveryCount >= maxDeliver) await this.storeInboundLetter(msg, stream, durable, retryDelayMs, errorText(error), undefined);
      else msg.nak(retryDelay(retryDelayMs, msg.info.deliveryCount));
      return;
    }
    if (verdict === 'ack') msg.ack();
    else await this.storeInboundLetter(msg, stream, durable, retryDelayMs, verdict.deadLetter, verdict.details);
  }

  private storeInboundLetter(msg: JsMsg, stream: string, durable: string, retryDelayMs: number, error: string, details: unknown): Promise<void> {
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
    return this.storeDeadLetter(msg, letter, `${durable}:${stream}:${msg.seq}`, retryDelayMs);
  }

  private async deliver(msg: JsMsg, d: Delivery): Promise<void> {
    const event = await this.admit(msg, d);
    if (event) await this.handleOne(msg, event, d);
  }

  /**
   * deliverBatch hands the events of `msgs` to the batch handler in one call and acks them all
   * once it resolves. If it throws, each goes to `handler` alone, so only a bad one is retried.
   * A batch of one goes there at once: the batch handler would add nothing but a second attempt.
   */
  private async deliverBatch(msgs: JsMsg[], d: Delivery): Promise<void> {
    const admitted: Array<{ msg: JsMsg; event: CustosEvent }> = [];
    for (const msg of msgs) {
      const event = await this.admit(msg, d);
      if (event) admitted.push({ msg, event });
    }
    const { batchHandler } = d;
    if (batchHandler && admitted.length > 1) {
      const batch = admitted.map(({ msg }) => msg);
      const handled = await batchHandler(admitted.map(({ event }) => event)).then(
        () => true,
        (error: unknown) => {
          this.noteError(error, `batch ${d.durable}`);
          return false;
        },
      );
      if (handled) {
        batch.forEach((msg) => msg.ack());
        return;
      }
    }
    for (const { msg, event } of admitted) await this.handleOne(msg, event, d);
  }

  /** admit returns the event of a message that is the handler's to try, and settles any other: acks one not asked for, dead-letters one that is not an event or has no attempt left. */
  private async admit(msg: JsMsg, d: Delivery): Promise<CustosEvent | undefined> {
    const eventName = msg.subject.slice(msg.subject.lastIndexOf('.') + 1);
    if (d.names && !d.names.has(eventName)) {
      msg.ack();
      return undefined;
    }
    let event: CustosEvent;
    try {
      event = msg.json<CustosEvent>();
    } catch (error) {
      await this.deadLetter(msg, d, null, error);
      return undefined;
    }
    if (msg.info.deliveryCount > d.maxDeliver) {
      await this.deadLetter(msg, d, event, new Error(`no attempt completed within ${d.maxDeliver} deliveries (the handling process stopped)`));
      return undefined;
    }
    return event;
  }

  /** handleOne acks the message once `handler` handled its event; after a throw, naks it for redelivery or, on its last delivery, dead-letters it. */
  private async handleOne(msg: JsMsg, event: CustosEvent, d: Delivery): Promise<void> {
    let failure: { error: unknown } | undefined;
    try {
      await d.handler(event);
    } catch (error) {
      failure = { error };
    }
    if (!failure) msg.ack();
    else if (msg.info.deliveryCount >= d.maxDeliver) await this.deadLetter(msg, d, event, failure.error);
    else msg.nak(retryDelay(d.retryDelayMs, msg.info.deliveryCount));
  }

  private async deadLetter(msg: JsMsg, d: Delivery, event: CustosEvent | null, error: unknown): Promise<void> {
    const letter: DeadLetter = {
      durable: d.durable,
      eventId: event?.id ?? msg.headers?.get('Ce-Id') ?? `seq-${msg.seq}`,
      event,
      error: errorText(error),
      deliveries: msg.info.deliveryCount,
      deadAt: new Date().toISOString(),
    };
    if (event === null) letter.payload = msg.string();
    await this.storeDeadLetter(msg, letter, `${d.durable}:${letter.eventId}`, d.retryDelayMs);
  }

  /** Stores a dead letter, then terminates its message; if the letter cannot be stored, the message is nak'd instead. */
  private async storeDeadLetter(msg: JsMsg, letter: DeadLetter, msgID: string, retryDelayMs: number): Promise<void> {
    try {
      const stream = deadLetterStreamName(this.namespace);
      await this.ensureStream(stream, [`${subjectPrefix(this.namespace)}dlq.>`]);
      await this.js.publish(deadLetterSubject(this.namespace, letter.durable), JSON.stringify(letter), { msgID });
      // No reason text: servers before 2.10 ignore a `+TERM` that carries one.
      msg.term();
    } catch (publishError) {
      // Without a stored dead letter the message must stay in JetStream, never be dropped.
      this.noteError(publishError, `dead letter ${letter.durable}`);
      msg.nak(retryDelay(retryDelayMs, msg.info.deliveryCount));
    }
  }

  /** deadLetters lists what a durable consumer gave up on, oldest first, from the dead-letter stream. */
  async deadLetters(durable: string): Promise<DeadLetter[]> {
    const stream = deadLetterStreamName(this.namespace);
    const subject = deadLetterSubject(this.namespace, durable);
    let count: number;
    try {
      const info = await this.jsm.streams.info(stream, { subjects_filter: subject });
      count = info.state.subjects?.[subject] ?? 0;
    } catch (error) {
      if (isApiError(error, STREAM_NOT_FOUND)) return [];
      throw error;
    }
    if (count === 0) return [];
    const reader = await this.js.consumers.get(stream, { filter_subjects: subject });
    const letters: DeadLetter[] = [];
    try {
      while (letters.length < count) {
        const msg = await reader.next({ expires: 2_000 });
        if (!msg) break;
        letters.push(msg.json<DeadLetter>());
        if (msg.info.pending === 0) break;
      }
    } finally {
      await reader.delete().catch(() => undefined);
    }
    return letters;
  }

  /** serve answers requests in a queue group named after the subject, so replicas share them. */
  async serve(subject: string, handler: RpcHandler): Promise<{ stop(): Promise<void> }> {
    const full = subjectPrefix(this.namespace) + subject;
    const inflight = new Set<Promise<void>>();
    const sub = this.nc.subscribe(full, {
      queue: full,
      callback: (error, msg) => {
        if (error) {
          this.noteError(error, `serve ${subject}`);
          return;
        }
        const answering = this.answer(msg, handler).finally(() => inflight.delete(answering));
        inflight.add(answering);
      },
    });
    const server: Stoppable = {
      stop: async () => {
        this.stoppables.delete(server);
        if (!sub.isClosed() && !this.nc.isClosed()) await sub.drain();
        await Promise.all(inflight);
      },
    };
    this.stoppables.add(server);
    // The subscription must reach the server before a caller can rely on it.
    await this.nc.flush();
    return server;
  }

  private async answer(msg: Msg, handler: RpcHandler): Promise<void> {
    let body: string;
    let errorStatus: number | undefined;
    try {
      let payload: unknown;
      try {
        payload = msg.data.length === 0 ? null : msg.json();
      } catch {
        throw Object.assign(new Error('request body is not JSON'), { status: 400 });
      }
      body = JSON.stringify((await handler(payload)) ?? null);
    } catch (error) {
      const answer = rpcErrorBody(error);
      errorStatus = answer.error.status;
      body = JSON.stringify(answer);
    }
    if (!msg.reply) return;
    const h = errorStatus === undefined ? undefined : headers();
    h?.set(RPC_ERROR_HEADER, String(errorStatus));
    msg.respond(body, h ? { headers: h } : undefined);
  }

  /** request sends a JSON request and returns the JSON answer; a remote error, no responder (503) or timeout (504) is an RpcError. */
  async request<T = unknown>(subject: string, payload: unknown, options?: RpcOptions): Promise<T> {
    const full = subjectPrefix(this.namespace) + subject;
    const timeoutMs = options?.timeoutMs ?? 5_000;
    let msg: Msg;
    try {
      msg = await this.nc.request(full, JSON.stringify(payload ?? null), { timeout: timeoutMs });
    } catch (error) {
      if (error instanceof RequestError && error.isNoResponders()) throw new RpcError(subject, 503, `no service answers ${subject}`);
      if (error instanceof TimeoutError || (error instanceof Error && error.cause instanceof TimeoutError)) {
        throw new RpcError(subject, 504, `no answer on ${subject} within ${timeoutMs} ms`);
      }
      throw error;
    }
    const body: unknown = msg.data.length === 0 ? null : msg.json();
    if (msg.headers?.get(RPC_ERROR_HEADER)) throw rpcErrorFromBody(subject, body as RpcErrorBody);
    return body as T;
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
      await Promise.allSettled([...this.stoppables].map((s) => s.stop()));
      if (!this.nc.isClosed()) await this.nc.drain();
    })();
    return this.closing;
  }

  private ensureContextStream(context: string): Promise<void> {
    return this.ensureStream(contextStreamName(this.namespace, context), [contextEventsFilter(this.namespace, context)]);
  }

  private ensureStream(name: string, subjects: string[]): Promise<void> {
    let ensured = this.streams.get(name);
    if (!ensured) {
      ensured = this.createStream(name, subjects).catch((error: unknown) => {
        this.streams.delete(name);
        throw error;
      });
      this.streams.set(name, ensured);
    }
    return ensured;
  }

  private async createStream(name: string, subjects: string[]): Promise<void> {
    try {
      await this.jsm.streams.add({
        name,
        subjects,
        storage: StorageType.File,
        duplicate_window: nanos(DUPLICATE_WINDOW_MS),
        num_replicas: this.replicas,
      });
    } catch (error) {
      // An operator may have tuned the stream (replicas, limits): keep theirs.
      if (!isApiError(error, STREAM_NAME_IN_USE)) throw error;
    }
  }

  private async ensureConsumer(stream: string, config: Partial<ConsumerConfig> & { durable_name: string }): Promise<void> {
    try {
      await this.jsm.consumers.add(stream, config);
    } catch (error) {
      // Servers from 2.10 refuse to re-create a durable with a changed config: update it instead.
      if (!(error instanceof JetStreamApiError)) throw error;
      await this.jsm.consumers.update(stream, config.durable_name, {
        ack_wait: config.ack_wait,
        max_deliver: config.max_deliver,
        filter_subject: config.filter_subject,
      });
    }
  }

  private noteError(error: unknown, where: string): void {
    this.lastError = { where, message: error instanceof Error ? error.message : String(error), at: new Date().toISOString() };
    this.onError?.(error, where);
  }

  private async watchConnection(): Promise<void> {
    for await (const status of this.nc.status()) {
      if (status.type === 'disconnect') this.connected = false;
      else if (status.type === 'reconnect') this.connected = true;
    }
  }
}
