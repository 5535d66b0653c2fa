import { fold, type Decider, type DomainEvent } from '@custos/platform/domain';
import type { CustosEvent, EventStore, NewEvent, StreamWrite, UnitOfWork } from '@custos/platform/event-store';
import { unwrap, type Settled } from './group-commit';

export interface CommandMeta {
  actor: string;
  correlationId?: string;
  causationId?: string;
}

/** One command for one stream, and who caused it. */
export interface StreamCommand<C> {
  streamId: string;
  command: C;
  meta: CommandMeta;
  /**
   * The caller has just minted the stream's id and knows it is empty: it is not read. Should the
   * stream exist after all, the append's expected version ('no-stream') refuses to write.
   */
  newStream?: boolean;
}

/** What a command did: its events, and its stream's state and version after it. */
export interface Handled<E, S> {
  events: E[];
  state: S;
  version: number;
}

export interface HandleCommandsOptions {
  /**
   * 'throw' (the default): a command the decider refuses throws, and nothing is written.
   * 'settle': it gets its error, writes nothing, and the other commands are written.
   */
  refusals?: 'throw' | 'settle';
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
export async function loadAggregate<C, E extends DomainEvent, S>(store: EventStore, streamId: string, decider: Decider<C, E, S>, tx?: UnitOfWork): Promise<{ state: S; version: number }> {
  const stored = await store.readStream(streamId, 1, { tx });
  return { state: foldStream(decider, stored), version: stored.length };
}

/**
 * handleCommands is every command handler of every context: read every stream in one read, fold
 * each, decide each command in order (a command sees the events of those before it on its
 * stream), and append them all in one write with the versions read, so that a concurrent writer
 * becomes a version conflict (WrongExpectedVersionError naming its stream), never a lost update.
 */
export async function handleCommands<C, E extends DomainEvent, S>(
  store: EventStore,
  decider: Decider<C, E, S>,
  commands: Array<StreamCommand<C>>,
  tx?: UnitOfWork,
  options: HandleCommandsOptions = {},
): Promise<Array<Settled<Handled<E, S>>>> {
  const stored = await store.readStreams([...new Set(commands.filter((c) => !c.newStream).map((c) => c.streamId))], { tx });
  const streams = new Map(
    [...new Set(commands.map((c) => c.streamId))].map((streamId) => {
      const events = stored.get(streamId) ?? [];
      return [streamId, { read: events.length, state: foldStream(decider, events), version: events.length, appended: [] as NewEvent[] }];
    }),
  );
  const outcomes = commands.map(({ streamId, command, meta }): Settled<Handled<E, S>> => {
    const stream = streams.get(streamId)!;
    let events: E[];
    try {
      events = decider.decide(command, stream.state);
    } catch (error) {
      if (options.refusals !== 'settle') throw error;
      return { ok: false, error };
    }
    stream.state = events.reduce(decider.evolve, stream.state);
    stream.version += events.length;
    stream.appended.push(...toNewEvents(events, meta));
    return { ok: true, value: { events, state: stream.state, version: stream.version } };
  });
  const writes: StreamWrite[] = [...streams]
    .filter(([, stream]) => stream.appended.length > 0)
    .map(([streamId, { read, appended }]) => ({ streamId, events: appended, expectedVersion: read === 0 ? 'no-stream' : read }));
  if (writes.length > 0) await store.appendStreams(writes, { tx });
  return outcomes;
}

/** handleCommand runs one command on one stream (see handleCommands); a refusal throws. */
export async function handleCommand<C, E extends DomainEvent, S>(
  store: EventStore,
  streamId: string,
  decider: Decider<C, E, S>,
  command: C,
  meta: CommandMeta,
  tx?: UnitOfWork,
): Promise<Handled<E, S>> {
  const [outcome] = await handleCommands(store, decider, [{ streamId, command, meta }], tx);
  return unwrap(outcome);
}
