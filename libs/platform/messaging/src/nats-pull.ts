import type { ConsumerMessages, JsMsg } from '@nats-io/jetstream';
import type { Consumer } from './bus';
import type { NatsLink } from './nats-link';

/**
 * How long the server waits for a delivered message's ack before redelivering it. Short, so that
 * the messages of a consumer that died (a killed process) reach a live one within seconds; a
 * live consumer reports every message it holds as in progress every WORKING_EVERY_MS (InHand),
 * so a long batch or a slow handler is not redelivered meanwhile.
 */
export const ACK_WAIT_MS = 5_000;
/** A fifth of the ack wait: an event loop held up for a few seconds still reports in time. */
const WORKING_EVERY_MS = ACK_WAIT_MS / 5;
// Small pulls keep work spread across replicas and bound what a stopping consumer must finish.
export const PULL_BATCH = 32;
const RESTART_DELAY_MS = 1_000;

/** What runPull does with the messages of one `consume()` iterator, until it ends; it puts each message it takes in `inHand` until settled. */
export type Drain = (messages: ConsumerMessages, inHand: InHand) => Promise<void>;

/**
 * InHand holds the messages a consumer has taken from its iterator and not yet settled (waiting
 * for their batch, or being handled), and tells the server every WORKING_EVERY_MS that they are
 * in progress (`+WPI`), which restarts their ack wait. One timer per consumer, running only while
 * something is in hand. Messages still in the client's pull buffer (at most one pull, taken once
 * the batch in flight ends) are not reported: only a batch slower than the ack wait lets those
 * be redelivered, and a redelivered copy is handled once (consumers are idempotent).
 */
export class InHand {
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

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** oneByOne hands each message to `onMessage`, the next only once it is settled. */
export function oneByOne(onMessage: (msg: JsMsg) => Promise<void>): Drain {
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

/** How a batch consumer lets its batches fill (see inBatches). */
export interface Lingering {
  /** After a batch during which more arrived, how long the next may wait to fill. Default BUSY_LINGER_MS. */
  busyLingerMs?: number;
  /** A background consumer's wait for every batch, idle or not (ConsumeOptions.lingerMs). Default 0. */
  lingerMs?: number;
}

/**
 * inBatches yields the messages of `messages` in arrays of at most `max`, each holding what has
 * arrived by then, the way a group commit forms its batches: an idle consumer never waits for a
 * second message, so a lone one goes at once. When messages arrived while the previous batch was
 * handled (a busy moment), the next batch waits up to `busyLingerMs` to fill, unless it fills
 * first: under load, few large batches (fewer transactions per event), and no delay when quiet.
 * A background consumer (`lingerMs`) lets every batch wait that long to fill, idle or not.
 * A pump moves messages from the iterator into `waiting` (telling `onArrival`), pausing at `max`
 * so that no more sit there than one batch.
 */
export async function* inBatches<T>(messages: AsyncIterable<T>, max: number, onArrival: (message: T) => void, lingering: Lingering = {}): AsyncGenerator<T[]> {
  const busyLingerMs = lingering.busyLingerMs ?? BUSY_LINGER_MS;
  const lingerMs = lingering.lingerMs ?? 0;
  const waiting: T[] = [];
  let arrived: (() => void) | undefined;
  let endLinger: (() => void) | undefined;
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
        if (waiting.length >= max) endLinger?.();
        if (waiting.length >= max) await new Promise<void>((resolve) => (taken = resolve));
        // Leaving the loop ends the iterator, as the consumer of the batches left.
        if (abandoned) break;
      }
    } catch (error) {
      failure = { error };
    }
    ended = true;
    arrived?.();
    endLinger?.();
  };
  void pump();
  try {
    for (;;) {
      if (waiting.length === 0 && !ended) await new Promise<void>((resolve) => (arrived = resolve));
      // The iterator hands over what it already holds in microtasks: one turn of the event loop
      // lets all of it reach `waiting`, without waiting on the network.
      await new Promise((resolve) => setImmediate(resolve));
      const linger = busy ? Math.max(busyLingerMs, lingerMs) : lingerMs;
      if (linger > 0 && waiting.length > 0 && waiting.length < max && !ended) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(() => endLinger?.(), linger);
          endLinger = () => {
            clearTimeout(timer);
            endLinger = undefined;
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
 * runPull pulls from one durable consumer, `pullBatch` messages at most in hand, and drains them
 * until stopped, restarting after errors (a deleted stream or consumer is re-created).
 */
export function runPull(link: NatsLink, stream: string, durable: string, pullBatch: number, ensure: () => Promise<void>, drain: Drain): Consumer {
  const { nc, js } = link;
  let stopping = false;
  let messages: ConsumerMessages | undefined;
  const inHand = new InHand();
  const run = async () => {
    while (!stopping && !nc.isClosed()) {
      try {
        const jsConsumer = await js.consumers.get(stream, durable);
        messages = await jsConsumer.consume({ max_messages: pullBatch });
        // close() settles only once the iterator reaches its end: never await it before draining.
        if (stopping) void messages.close();
        // After close() the iterator still yields what was already pulled: those are handled, not abandoned.
        await drain(messages, inHand);
      } catch (error) {
        // A drain that failed may have left its iterator open: no more pulls for it.
        void messages?.close();
        if (stopping || nc.isClosed()) break;
        link.noteError(error, `consumer ${durable}`);
      }
      // What was taken from the ended iterator and not settled is the server's to redeliver.
      inHand.clear();
      if (stopping || nc.isClosed()) break;
      await sleep(RESTART_DELAY_MS);
      // The stream or consumer may have been deleted underneath us.
      link.streams.forget(stream);
      await ensure().catch((error) => link.noteError(error, `consumer ${durable}`));
    }
  };
  const done = run().finally(() => inHand.clear());
  const consumer: Consumer = {
    stop: async () => {
      stopping = true;
      void messages?.close();
      await done;
      link.untrack(consumer);
      // Acks are fire-and-forget: flush so the next consumer on any connection sees them.
      if (!nc.isClosed()) await nc.flush().catch(() => undefined);
    },
  };
  link.track(consumer);
  return consumer;
}
