import type { JsMsg } from '@nats-io/jetstream';
import type { DeadLetter } from './bus';
import { deadLetterStreamName, deadLetterSubject, subjectPrefix } from './naming';
import type { NatsLink } from './nats-link';
import { isApiError, STREAM_NOT_FOUND } from './nats-streams';
import { retryDelay } from './retry-delay';

/** Stores a dead letter on `dlq.<durable>`, then terminates its message; if the letter cannot be stored, the message is nak'd instead. */
export async function storeDeadLetter(link: NatsLink, msg: JsMsg, letter: DeadLetter, msgID: string, retryDelayMs: number): Promise<void> {
  try {
    const stream = deadLetterStreamName(link.namespace);
    await link.streams.ensureStream(stream, [`${subjectPrefix(link.namespace)}dlq.>`]);
    await link.js.publish(deadLetterSubject(link.namespace, letter.durable), JSON.stringify(letter), { msgID });
    // No reason text: servers before 2.10 ignore a `+TERM` that carries one.
    msg.term();
  } catch (publishError) {
    // Without a stored dead letter the message must stay in JetStream, never be dropped.
    link.noteError(publishError, `dead letter ${letter.durable}`);
    msg.nak(retryDelay(retryDelayMs, msg.info.deliveryCount));
  }
}

/** listDeadLetters lists what a durable consumer gave up on, oldest first, from the dead-letter stream. */
export async function listDeadLetters(link: NatsLink, durable: string): Promise<DeadLetter[]> {
  const stream = deadLetterStreamName(link.namespace);
  const subject = deadLetterSubject(link.namespace, durable);
  let count: number;
  try {
    const info = await link.jsm.streams.info(stream, { subjects_filter: subject });
    count = info.state.subjects?.[subject] ?? 0;
  } catch (error) {
    if (isApiError(error, STREAM_NOT_FOUND)) return [];
    throw error;
  }
  if (count === 0) return [];
  const reader = await link.js.consumers.get(stream, { filter_subjects: subject });
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
