import { ENTITLEMENT_STREAM_PREFIXES, AccessEvent } from '@custos/entitlement/contracts';
import type { AccessCheck } from '@custos/entitlement/domain';
import type { CustosEvent, EventStore } from '@custos/platform/event-store';
import { InMemoryView } from '@custos/platform/runtime';
import { AccessIndex, type AccessSummary } from './access-index';

export type { AccessSummary } from './access-index';

/**
 * Events per store read while replaying. Measured on 1M access events (bench/check.bench.ts):
 * reading (pg rows, JSON parse of `data`, the envelope) is about three quarters of a rebuild at
 * any batch size from 1,000 to 20,000, and no faster above 2,000; larger batches only keep more
 * rows alive across young-generation collections, which promotes them and grows the heap
 * (RSS +300 MB at 5,000, +600 MB at 20,000).
 */
export const ACCESS_VIEW_BATCH_SIZE = 2_000;

/**
 * Who holds what, in memory, folded from the access streams into a compact check index (see
 * AccessIndex): the check API answers from here without I/O. A terminated identity is denied
 * from the moment AccessTerminated is applied, before its individual revocations are written;
 * an expired grant is denied from its `expiresAt` on, before its expiry job runs.
 */
export class AccessView {
  private readonly index = new AccessIndex();
  private readonly view: InMemoryView;

  constructor(store: EventStore, onError: (error: unknown) => void, options: { batchSize?: number; pollIntervalMs?: number } = {}) {
    this.view = new InMemoryView(store, (event) => this.apply(event), {
      onError,
      pollIntervalMs: options.pollIntervalMs ?? 20,
      batchSize: options.batchSize ?? ACCESS_VIEW_BATCH_SIZE,
    });
  }

  start(): Promise<void> {
    return this.view.start();
  }

  catchUp(): Promise<void> {
    return this.view.catchUp();
  }

  stop(): Promise<void> {
    return this.view.stop();
  }

  private apply(stored: CustosEvent): void {
    const prefix = ENTITLEMENT_STREAM_PREFIXES.access;
    if (!stored.subject.startsWith(prefix)) return;
    this.index.apply(stored.subject.slice(prefix.length), { type: stored.name, data: stored.data } as AccessEvent);
  }

  /** The identity's status and the grants it holds now (for GET /access), or undefined when it has no access events. */
  of(identityId: string): AccessSummary | undefined {
    return this.index.of(identityId);
  }

  /** The decision for one identity and entitlement at `now`; an expired grant denies even before its expiry job runs. */
  check(identityId: string, entitlement: string, now: Date): AccessCheck {
    return this.index.check(identityId, entitlement, now.getTime());
  }

  /** Identities with at least one access event. */
  get size(): number {
    return this.index.size;
  }

  /** Grants held now, over all identities. */
  grantCount(): number {
    return this.index.grantCount();
  }
}
