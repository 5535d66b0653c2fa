import { decide, evolve, IdentityCommand, IdentityState, initialState } from '@custos/identity/domain';
import { identityStreamId, IdentityEvent } from '@custos/identity/contracts';
import type { EventStore, SqlExecutor } from '@custos/platform/event-store';

/** Metadata stamped on the events a command causes. */
export interface CommandMeta {
  actor: string;
  correlationId?: string;
  causationId?: string;
}

/**
 * The command handler of the identity aggregate: read the stream, fold, decide, append with the
 * version that was read. A concurrent writer makes the append fail rather than lose an update.
 */
export async function handleIdentityCommand(
  store: EventStore,
  tx: SqlExecutor,
  command: IdentityCommand,
  meta: CommandMeta,
  options: { newStream?: boolean } = {},
): Promise<{ events: IdentityEvent[]; state: IdentityState }> {
  const streamId = identityStreamId(command.data.identityId);
  // A caller that has just minted the identity id knows its stream is empty: no read. Should the
  // stream exist after all, the append's expected version 0 refuses to write.
  const stored = options.newStream ? [] : await store.readStream(streamId, 1, { tx });
  const state = stored.map((e) => ({ type: e.name, data: e.data }) as IdentityEvent).reduce(evolve, initialState());
  const events = decide(command, state);
  if (events.length > 0) {
    await store.append(
      streamId,
      events.map((e) => ({ name: e.type, data: e.data, actor: meta.actor, correlationId: meta.correlationId, causationId: meta.causationId })),
      stored.length,
      { tx },
    );
  }
  return { events, state: events.reduce(evolve, state) };
}
