import type { IdentityEvent, IdentitySnapshot } from '@custos/identity/contracts';
import type { CustosEvent } from '@custos/platform/event-store';
import type { Consumer } from '@custos/platform/messaging';
import type { ContextRuntime, Inbox } from '@custos/platform/runtime';
import type { AccessService } from './access-service';
import type { CatalogView } from './catalog-view';
import { IdentityProfiles, profileOf } from './identity-profiles';

export const IDENTITY_LIFECYCLE_CONSUMER = 'entitlement-identity-lifecycle';

/**
 * The process manager from identity lifecycle to access: joiners get their birthright, movers
 * gain and lose it, leavers lose everything at once, rehires start again. Each identity event
 * is claimed in the inbox in the same transaction as its effect: a redelivery does nothing.
 */
export class IdentityLifecycle {
  private consumer?: Consumer;

  constructor(
    private readonly runtime: ContextRuntime,
    private readonly inbox: Inbox,
    private readonly profiles: IdentityProfiles,
    private readonly access: AccessService,
    private readonly catalog: CatalogView,
  ) {}

  async start(): Promise<void> {
    this.consumer = await this.runtime.bus.consume({ durable: IDENTITY_LIFECYCLE_CONSUMER, context: 'identity', handler: (event) => this.handle(event) });
  }

  async stop(): Promise<void> {
    await this.consumer?.stop();
  }

  /** Applies one identity event's consequences once. */
  async handle(stored: CustosEvent): Promise<void> {
    const event = { type: stored.name, data: stored.data } as IdentityEvent;
    if (event.type === 'IdentityChangeSuperseded') return;
    const meta = { actor: 'system:identity-lifecycle', correlationId: stored.correlationid, causationId: stored.id };
    await this.catalog.catchUp();
    await this.inbox.once(IDENTITY_LIFECYCLE_CONSUMER, stored.id, async (tx) => {
      const snapshot: IdentitySnapshot = event.data.identity;
      const profile = profileOf(snapshot);
      await this.profiles.record(tx, profile);
      const identityId = snapshot.identityId;
      const now = this.runtime.clock().toISOString();
      switch (event.type) {
        case 'IdentityTerminated':
          await this.access.execute(tx, { type: 'RevokeAllAccess', data: { identityId, reason: 'leaver', now } }, meta);
          return;
        case 'IdentityRehired':
          await this.access.execute(tx, { type: 'ReinstateAccess', data: { identityId, now } }, meta);
          if (profile.status === 'active') await this.access.applyBirthright(tx, profile, 'rehire', stored.id, meta);
          return;
        case 'IdentityHired':
        case 'IdentityActivated':
          if (profile.status === 'active') await this.access.applyBirthright(tx, profile, 'joiner', stored.id, meta);
          return;
        case 'IdentityMoved':
        case 'IdentityAttributesCorrected':
        case 'GroupsAssigned':
          if (profile.status === 'active') await this.access.applyBirthright(tx, profile, 'mover', stored.id, meta);
          return;
        case 'ManagerLinked':
          return;
        default: {
          const unhandled: never = event;
          void unhandled;
        }
      }
    });
  }
}
