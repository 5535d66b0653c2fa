import { identityStreamId, type IdentityEvent } from '@custos/identity/contracts';
import { identityDecider } from '@custos/identity/domain';
import type { EventStore, SqlExecutor } from '@custos/platform/event-store';
import { handleIdentityCommand } from '../identity-store';
import { ScimError } from './scim-error';

/** Who changed group memberships and when, for the AssignGroups command. */
export interface GroupChangeContext {
  now: string;
  correlationId: string;
  /** The authenticated caller; `hr:scim` when none is known. */
  actor?: string;
  eventId?: string;
}

/**
 * reassignGroups moves an identity's `groups` by what a SCIM Group change did to it: the names
 * it left are removed, the names it joined are added, and groups that came from elsewhere (an
 * HR record) stay. It goes through the identity stream (AssignGroups), so other contexts hear
 * GroupsAssigned; a member that is not an identity is refused.
 */
export async function reassignGroups(
  store: EventStore,
  tx: SqlExecutor,
  identityId: string,
  change: { removed: string[]; added: string[] },
  context: GroupChangeContext,
): Promise<void> {
  const stored = await store.readStream(identityStreamId(identityId), 1, { tx });
  const state = stored.map((e) => ({ type: e.name, data: e.data }) as IdentityEvent).reduce(identityDecider.evolve, identityDecider.initialState());
  if (state.kind === 'NoIdentity') throw ScimError.invalidValue(`member ${identityId} is not a User`);
  const removed = new Set(change.removed.map((g) => g.toLowerCase()));
  const groups = [...state.identity.groups.filter((g) => !removed.has(g.toLowerCase())), ...change.added];
  await handleIdentityCommand(
    store,
    tx,
    {
      type: 'AssignGroups',
      data: { identityId, groups, effectiveAt: context.now, now: context.now, source: { system: 'scim', channel: 'scim', ...(context.eventId ? { eventId: context.eventId } : {}) } },
    },
    { actor: context.actor ?? 'hr:scim', correlationId: context.correlationId },
  );
}
