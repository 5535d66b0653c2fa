import { ENTITLEMENT_STREAM_PREFIXES, AccessEvent } from '@custos/entitlement/contracts';
import { AccessCheck, AccessState, accessDecider, checkAccess } from '@custos/entitlement/domain';
import type { CustosEvent, EventStore } from '@custos/platform/event-store';
import { InMemoryView } from '@custos/platform/runtime';

/**
 * Who holds what, in memory, folded from the access streams with the aggregate's own `evolve`:
 * the check API answers from here without I/O. A terminated identity is denied from the moment
 * AccessTerminated is applied, before its individual revocations are written.
 */
export class AccessView {
  private readonly access = new Map<string, AccessState>();
  private readonly view: InMemoryView;

  constructor(store: EventStore, onError: (error: unknown) => void) {
    this.view = new InMemoryView(store, (event) => this.apply(event), { onError, pollIntervalMs: 20 });
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
    const identityId = stored.subject.slice(prefix.length);
    const event = { type: stored.name, data: stored.data } as AccessEvent;
    this.access.set(identityId, accessDecider.evolve(this.access.get(identityId) ?? accessDecider.initialState(), event));
  }

  of(identityId: string): AccessState | undefined {
    return this.access.get(identityId);
  }

  /** The decision for one identity and entitlement at `now`; an expired grant denies even before its expiry job runs. */
  check(identityId: string, entitlement: string, now: Date): AccessCheck {
    const state = this.access.get(identityId);
    if (!state) return { allowed: false, reason: 'not-granted', grantIds: [] };
    return checkAccess({ terminated: state.status === 'terminated', grants: state.grants }, entitlement, now.toISOString());
  }

  get size(): number {
    return this.access.size;
  }
}
