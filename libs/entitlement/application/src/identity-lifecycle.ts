import { changesIdentity, type IdentityEvent } from '@custos/identity/contracts';
import type { BirthrightReason } from '@custos/entitlement/domain';
import type { CustosEvent } from '@custos/platform/event-store';
import type { ContextRuntime, Inbox } from '@custos/platform/runtime';
import type { AccessChange, AccessService } from './access-service';
import type { CatalogView } from './read-models/catalog/catalog-view';
import { type IdentityProfile, IdentityProfiles, profileOf } from './read-models/identity-profiles/identity-profiles';
import type { KnownIdentities } from './read-models/identity-profiles/known-identities';

export const IDENTITY_LIFECYCLE_CONSUMER = 'entitlement-identity-lifecycle';

/** An identity event that changed the identity, with the profile it leaves. */
interface IdentityChange {
  stored: CustosEvent;
  event: Exclude<IdentityEvent, { type: 'IdentityChangeSuperseded' }>;
  profile: IdentityProfile;
}

/** The change an event carries; none for a superseded change, which changed nothing. */
function changeOf(stored: CustosEvent): IdentityChange | undefined {
  const event = { type: stored.name, data: stored.data } as IdentityEvent;
  return changesIdentity(event) ? { stored, event, profile: profileOf(event.data.identity) } : undefined;
}

/**
 * The process manager from identity lifecycle to access: joiners get their birthright, movers
 * gain and lose it, leavers lose everything at once, rehires start again. Each identity event
 * is claimed in the inbox in the same transaction as its effect: a redelivery does nothing.
 * The entitlement API's IdentityEventsController hands it the identity events (durable consumer
 * IDENTITY_LIFECYCLE_CONSUMER, in batches).
 */
export class IdentityLifecycle {
  constructor(
    private readonly runtime: ContextRuntime,
    private readonly inbox: Inbox,
    private readonly profiles: IdentityProfiles,
    private readonly access: AccessService,
    private readonly catalog: CatalogView,
    private readonly known?: KnownIdentities,
  ) {}

  /** Applies one identity event's consequences once. */
  handle(stored: CustosEvent): Promise<void> {
    return this.handleBatch([stored]);
  }

  /**
   * Applies the consequences of several identity events, each once, in order and in one
   * transaction: all or nothing, as `handle` on each in turn would. Events of one identity
   * each see the access that the ones before them decided; the access commands of the whole
   * batch read, append and keep their expiry jobs in a few statements.
   */
  async handleBatch(events: CustosEvent[]): Promise<void> {
    const changes = events.map(changeOf).filter((c): c is IdentityChange => c !== undefined);
    if (changes.length === 0) return;
    // Birthright reads the catalog; a batch that applies none (leavers, manager links) does not.
    if (changes.some((c) => birthrightOf(c) !== undefined)) await this.catalog.catchUp();
    await this.runtime.db.transaction(async (tx) => {
      const claimed = await this.inbox.claimMany(tx, IDENTITY_LIFECYCLE_CONSUMER, changes.map((c) => c.stored.id));
      // Taking each id out as it is kept applies an event delivered twice in the batch once.
      const fresh = changes.filter((c) => claimed.delete(c.stored.id));
      // Nothing below reads the profiles: writing each identity's last one first is the same as one by one.
      await this.profiles.recordMany(tx, fresh.map((c) => c.profile));
      await this.access.executeMany(tx, fresh.flatMap((c) => this.accessChanges(c)));
    });
    // Read-your-writes for the check API of this process; other replicas read the profiles.
    this.known?.add(changes.map((c) => c.profile.identityId));
  }

  /** The access commands one identity change calls for, in the order they run. */
  private accessChanges(change: IdentityChange): AccessChange[] {
    const { stored, event, profile } = change;
    const meta = { actor: 'system:identity-lifecycle', correlationId: stored.correlationid, causationId: stored.id };
    const now = this.runtime.clock().toISOString();
    const reason = birthrightOf(change);
    const birthright: AccessChange[] = reason ? [{ command: this.access.birthrightCommand(profile, reason, stored.id), meta }] : [];
    switch (event.type) {
      case 'IdentityTerminated':
        return [{ command: { type: 'RevokeAllAccess', data: { identityId: profile.identityId, reason: 'leaver', now } }, meta }];
      case 'IdentityRehired':
        return [{ command: { type: 'ReinstateAccess', data: { identityId: profile.identityId, now } }, meta }, ...birthright];
      default:
        return birthright;
    }
  }
}

/** Why a change re-applies the birthright rules to an active identity, if it does. */
function birthrightOf({ event, profile }: IdentityChange): BirthrightReason | undefined {
  if (profile.status !== 'active') return undefined;
  switch (event.type) {
    case 'IdentityRehired':
      return 'rehire';
    case 'IdentityHired':
    case 'IdentityActivated':
      return 'joiner';
    case 'IdentityMoved':
    case 'IdentityAttributesCorrected':
    case 'GroupsAssigned':
      return 'mover';
    case 'IdentityTerminated':
    case 'ManagerLinked':
      return undefined;
    default: {
      const unhandled: never = event;
      void unhandled;
      return undefined;
    }
  }
}
