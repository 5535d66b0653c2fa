import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';
import { START, type Checkpoint, type CustosEvent, type EventStore } from '@custos/platform/event-store';
import type { MessageBus } from '@custos/platform/messaging';

/**
 * `rpc.<context>.store-events`: a context's store, read in order, as ids and digests, so that the
 * audit log can be checked against it (every stored event in the log and no other, in order, the
 * same bytes) without the audit context reading another context's tables.
 */
export function storeEventsSubject(context: string): string {
  return `rpc.${context}.store-events`;
}

/** The most events one answer carries (ids and digests: well under NATS's 1 MB message). */
export const STORE_EVENTS_PAGE = 2000;

export interface StoreEventsRequest {
  /** Where the previous page ended (its `checkpoint`); none: from the start. */
  after?: Checkpoint;
  limit?: number;
}

export interface StoreEventDigest {
  id: string;
  /** Its position in the context's store (`globalposition`). */
  position?: string;
  /** SHA-256 (hex) of the RFC 8785 canonical JSON of the event as stored and published. */
  digest: string;
}

export interface StoreEventsPage {
  events: StoreEventDigest[];
  /** Where this page ended: the `after` of the next. */
  checkpoint: Checkpoint;
}

/** eventDigest is SHA-256 (hex) of an event's RFC 8785 canonical JSON: the same on both sides of the cross-check. */
export function eventDigest(event: CustosEvent): string {
  return createHash('sha256').update(canonicalize(event) ?? '').digest('hex');
}

const DIGITS = /^\d{1,20}$/;

/** The request, as far as it is one: anything else reads from the start, at most a page. */
function requestOf(payload: unknown): { after: Checkpoint; limit: number } {
  const request = (payload !== null && typeof payload === 'object' ? payload : {}) as Record<string, unknown>;
  const after = request.after as Record<string, unknown> | undefined;
  const checkpoint =
    after && typeof after === 'object' && typeof after.tx === 'string' && typeof after.pos === 'string' && DIGITS.test(after.tx) && DIGITS.test(after.pos)
      ? { tx: after.tx, pos: after.pos }
      : START;
  const limit = typeof request.limit === 'number' && Number.isInteger(request.limit) ? Math.min(Math.max(request.limit, 1), STORE_EVENTS_PAGE) : STORE_EVENTS_PAGE;
  return { after: checkpoint, limit };
}

/** serveStoreEvents answers `rpc.<context>.store-events` from the context's store (reads only). */
export function serveStoreEvents(bus: MessageBus, store: EventStore): Promise<{ stop(): Promise<void> }> {
  return bus.serve(storeEventsSubject(store.context), async (payload) => {
    const { after, limit } = requestOf(payload);
    const { events, checkpoint } = await store.readAll(after, limit);
    return { events: events.map((e) => ({ id: e.id, position: e.globalposition, digest: eventDigest(e) })), checkpoint } satisfies StoreEventsPage;
  });
}
