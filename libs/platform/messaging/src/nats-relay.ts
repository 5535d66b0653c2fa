import type { CustosEvent, EventStore } from '@custos/platform/event-store';
import { headers } from '@nats-io/nats-core';
import type { Relay } from './bus';
import { eventNameOf, eventSubject } from './naming';
import type { NatsLink } from './nats-link';

const RELAY_BATCH_SIZE = 256;

/**
 * startNatsRelay publishes every event of `store`, in commit order, with the event id as the
 * JetStream dedupe id; a batch's checkpoint commits only after JetStream acknowledged all of it,
 * so a crash republishes at most that batch and the duplicate window drops the copies.
 */
export async function startNatsRelay(link: NatsLink, store: EventStore): Promise<Relay> {
  const context = store.context;
  await link.streams.ensureContextStream(context);
  const name = link.namespace === '' ? 'relay:nats' : `relay:nats:${link.namespace}`;
  const subscription = store.subscribe(name, (events) => publishBatch(link, context, events), {
    batchSize: RELAY_BATCH_SIZE,
    // Publishing writes nothing to the database: the checkpoint is one statement, no transaction.
    transactional: false,
    onError: (error) => link.noteError(error, `relay ${context}`),
  });
  const relay: Relay = {
    caughtUp: () => subscription.caughtUp(),
    stop: async () => {
      link.untrack(relay);
      await subscription.stop();
    },
  };
  link.track(relay);
  return relay;
}

async function publishBatch(link: NatsLink, context: string, events: CustosEvent[]): Promise<void> {
  // Pipelined: all publishes go out before the first ack is awaited.
  await Promise.all(
    events.map((event) => {
      const h = headers();
      h.set('Ce-Id', event.id);
      h.set('Ce-Type', event.type);
      h.set('Ce-Source', event.source);
      h.set('Ce-Subject', event.subject);
      return link.js.publish(eventSubject(link.namespace, context, eventNameOf(event)), JSON.stringify(event), {
        msgID: event.id,
        headers: h,
      });
    }),
  );
}
