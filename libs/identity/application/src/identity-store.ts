import { identityDecider, IdentityCommand, IdentityState } from '@custos/identity/domain';
import { identityStreamId, IdentityEvent } from '@custos/identity/contracts';
import type { EventStore, SqlExecutor } from '@custos/platform/event-store';
import { CommandMeta, handleCommand } from '@custos/platform/runtime';

export type { CommandMeta };

/** The identity aggregate's command handler: the platform's handleCommand on `identity-{id}`. */
export async function handleIdentityCommand(store: EventStore, tx: SqlExecutor, command: IdentityCommand, meta: CommandMeta): Promise<{ events: IdentityEvent[]; state: IdentityState }> {
  const { events, state } = await handleCommand(store, identityStreamId(command.data.identityId), identityDecider, command, meta, tx);
  return { events, state };
}
