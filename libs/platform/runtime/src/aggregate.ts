import { fold, type Decider, type DomainEvent } from '@custos/platform/domain';
import type { CustosEvent, EventStore, NewEvent, SqlExecutor } from '@custos/platform/event-store';

export interface CommandMeta {
  actor: string;
  correlationId?: string;
  causationId?: string;
}

export interface HandleOptions {
  /**
   * The caller has just minted the stream's id and knows it is empty: no read. Should the stream
   * exist after all, the append's expected version ('no-stream') refuses to write.
   */
  newStream?: boolean;
}

/** Folds stored events into a decider's state. */
export function foldStream<C, E extends DomainEvent, S>(decider: Decider<C, E, S>, stored: CustosEvent[]): S {
  return fold(decider, stored.map((e) => ({ type: e.name, data: e.data }) as E));
}

/** A decider's events as the store takes them, stamped with who caused them. */
export function toNewEvents(events: DomainEvent[], meta: CommandMeta): NewEvent[] {
  return events.map((e) => ({ name: e.type, data: e.data, actor: meta.actor, correlationId: meta.correlationId, causationId: meta.causationId }));
}

/** Reads a stream and folds it into a decider's state. */
export async function loadAggregate<C, E extends DomainEvent, S>(
  store: EventStore,
  streamId: string,
  decider: Decider<C, E, S>,
  tx?: SqlExecutor,
  options: HandleOptions = {},
): Promise<{ state: S; version: number }> {
  const stored = options.newStream ? [] : await store.readStream(streamId, 1, { tx });
  return { state: foldStream(decider, stored), version: stored.length };
}

/**
 * handleCommand is every command handler of every context: read the stream, fold, decide, append
 * with the version read (a concurrent writer turns into a version conflict, never a lost update).
 * `version` is the stream's version after the command.
 */
export async function handleCommand<C, E extends DomainEvent, S>(
  store: EventStore,
  streamId: string,
  decider: Decider<C, E, S>,
  command: C,
  meta: CommandMeta,
  tx?: SqlExecutor,
  options: HandleOptions = {},
): Promise<{ events: E[]; state: S; version: number }> {
  const { state, version } = await loadAggregate(store, streamId, decider, tx, options);
  const events = decider.decide(command, state);
  if (events.length > 0) {
    await store.append(streamId, toNewEvents(events, meta), version === 0 ? 'no-stream' : version, { tx });
  }
  return { events, state: events.reduce(decider.evolve, state), version: version + events.length };
}
