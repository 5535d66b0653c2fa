import { EventEmitter } from 'node:events';
import {
  BACKWARDS,
  END,
  NO_STREAM,
  START,
  StreamNotFoundError,
  UnavailableError,
  UnsupportedError,
  WrongExpectedVersionError,
  type AllStreamResolvedEvent,
  type AppendResult,
  type AppendStreamRequest,
  type AppendStreamState,
  type AppendToStreamOptions,
  type EventData,
  type Filter,
  type MultiAppendResult,
  type Position,
  type ReadAllOptions,
  type ReadStreamOptions,
  type ResolvedEvent,
  type SubscribeToAllOptions,
} from '@kurrent/kurrentdb-client';
import type { KurrentClient, LiveFeed } from './kurrent-event-store';

interface Stored {
  streamId: string;
  id: string;
  revision: bigint;
  type: string;
  created: Date;
  data: unknown;
  metadata: unknown;
  isJson: true;
  position: Position;
}

/**
 * A stand-in for a KurrentDB server behind the client's own types, for specifying the adapter
 * where no server runs. It keeps what the adapter relies on, as KurrentDB documents it: revisions
 * from 0, positions ordered by (commit, prepare) with the events of one append sharing their
 * commit position, expected-state checks that throw the client's WrongExpectedVersionError,
 * idempotent re-appends of the same event ids, reads from a position that include the event at
 * it, stream-name filters, the all-or-nothing multi-stream append (or, with
 * `multiStreamAppend: false`, the client's refusal on a server before 25.1), and JSON round trips
 * of data and metadata. It is not KurrentDB: the contract suite against a real server is in
 * kurrent-event-store.spec.ts.
 */
export class InMemoryKurrentClient implements KurrentClient {
  readonly log: Stored[] = [];
  private readonly streams = new Map<string, Stored[]>();
  private readonly feeds = new Set<{ emitter: EventEmitter; filter?: Filter }>();
  private nextPosition = 1000n;
  /** Calls made, for specs that count round trips. */
  readonly calls = { appendToStream: 0, multiStreamAppend: 0, readStream: 0, readAll: 0 };
  /** Set to make the next append (single or multi-stream) store its events and then fail as a lost acknowledgement would. */
  loseNextAcknowledgement = false;

  constructor(private readonly options: { multiStreamAppend?: boolean } = {}) {}

  async appendToStream(streamName: string, events: EventData[] | EventData, options: AppendToStreamOptions = {}): Promise<AppendResult> {
    this.calls.appendToStream++;
    await Promise.resolve();
    const list = Array.isArray(events) ? events : [events];
    const state = options.streamState ?? 'any';
    const idempotent = this.idempotent(streamName, list, state);
    if (idempotent !== null) return { success: true, nextExpectedRevision: idempotent, position: this.log[this.log.length - 1]?.position };
    this.check(streamName, state);
    const written = this.commit([{ streamName, events: list }]);
    this.acknowledge();
    const last = written[written.length - 1];
    return { success: true, nextExpectedRevision: last.revision, position: last.position };
  }

  async multiStreamAppend(requests: AppendStreamRequest[]): Promise<MultiAppendResult> {
    this.calls.multiStreamAppend++;
    await Promise.resolve();
    if (this.options.multiStreamAppend === false) throw new UnsupportedError('multiStreamAppend', '25.1.0');
    for (const request of requests) {
      for (const event of request.events) {
        const metadata = event.metadata as unknown;
        if (metadata != null && (typeof metadata !== 'object' || Object.values(metadata).some((v) => typeof v !== 'string'))) {
          throw new Error('multiStreamAppend requires metadata to be a plain object with string keys and string values.');
        }
      }
    }
    for (const request of requests) this.check(request.streamName, request.expectedState);
    const written = this.commit(requests.map((r) => ({ streamName: r.streamName, events: r.events })));
    this.acknowledge();
    return {
      position: written[written.length - 1].position.commit,
      responses: requests.map((r) => ({ streamName: r.streamName, revision: this.revisionOf(r.streamName) })),
    };
  }

  readStream(streamName: string, options: ReadStreamOptions = {}): AsyncIterableIterator<ResolvedEvent> {
    this.calls.readStream++;
    const events = this.streams.get(streamName);
    const backwards = options.direction === BACKWARDS;
    const from = options.fromRevision ?? (backwards ? END : START);
    const max = Number(options.maxCount ?? Number.MAX_SAFE_INTEGER);
    return (async function* () {
      await Promise.resolve();
      if (!events) throw new StreamNotFoundError(undefined, streamName);
      let selected = backwards
        ? [...events].reverse().filter((e) => from === END || from === START || e.revision <= from)
        : events.filter((e) => from === START || (from !== END && e.revision >= from));
      selected = selected.slice(0, max);
      for (const event of selected) yield { event: clone(event) } as ResolvedEvent;
    })();
  }

  readAll(options: ReadAllOptions = {}): AsyncIterableIterator<AllStreamResolvedEvent> {
    this.calls.readAll++;
    const backwards = options.direction === BACKWARDS;
    const from = options.fromPosition ?? (backwards ? END : START);
    const max = Number(options.maxCount ?? Number.MAX_SAFE_INTEGER);
    const matching = this.log.filter((e) => matches(options.filter, e.streamId));
    return (async function* () {
      await Promise.resolve();
      let selected = backwards
        ? [...matching].reverse().filter((e) => from === END || from === START || compare(e.position, from) <= 0)
        : matching.filter((e) => from === START || (from !== END && compare(e.position, from) >= 0));
      selected = selected.slice(0, max);
      for (const event of selected) yield { event: clone(event), commitPosition: event.position.commit } as AllStreamResolvedEvent;
    })();
  }

  subscribeToAll(options: SubscribeToAllOptions = {}): LiveFeed {
    if (options.fromPosition !== END) throw new Error('the in-memory client follows $all from its end only');
    const emitter = new EventEmitter();
    const feed = { emitter, filter: options.filter };
    this.feeds.add(feed);
    return {
      on: (event: 'data' | 'error', listener: Parameters<EventEmitter['on']>[1]) => emitter.on(event, listener),
      unsubscribe: async () => void this.feeds.delete(feed),
    } as LiveFeed;
  }

  /** Ends the live feeds, as the client's dispose closes its connections. */
  async dispose(): Promise<void> {
    this.feeds.clear();
  }

  /** Makes every live feed fail, as a dropped connection would. */
  dropFeeds(): void {
    for (const feed of [...this.feeds]) {
      this.feeds.delete(feed);
      feed.emitter.emit('error', new UnavailableError());
    }
  }

  get liveFeeds(): number {
    return this.feeds.size;
  }

  private revisionOf(streamName: string): bigint {
    return BigInt((this.streams.get(streamName)?.length ?? 0) - 1);
  }

  private check(streamName: string, state: AppendStreamState): void {
    const current = this.revisionOf(streamName);
    const ok = state === 'any' || (state === NO_STREAM ? current === -1n : state === 'stream_exists' ? current >= 0n : current === state);
    if (!ok) {
      throw new WrongExpectedVersionError(undefined, { streamName, expected: state, current: current < 0n ? NO_STREAM : current });
    }
  }

  /** KurrentDB's idempotence: the same ids re-appended where they already are succeed without writing. */
  private idempotent(streamName: string, events: EventData[], state: AppendStreamState): bigint | null {
    const stream = this.streams.get(streamName) ?? [];
    if (events.length === 0) return null;
    const first = state === 'any' ? stream.findIndex((e) => e.id === events[0].id) : state === NO_STREAM ? 0 : state === 'stream_exists' ? -1 : Number(state) + 1;
    if (first < 0 || first + events.length > stream.length) return null;
    return events.every((e, i) => stream[first + i].id === e.id) ? BigInt(first + events.length - 1) : null;
  }

  private commit(writes: Array<{ streamName: string; events: EventData[] }>): Stored[] {
    const written: Stored[] = [];
    for (const { streamName, events } of writes) {
      let stream = this.streams.get(streamName);
      if (!stream) this.streams.set(streamName, (stream = []));
      for (const event of events) {
        this.nextPosition += 100n;
        const stored: Stored = {
          streamId: streamName,
          id: event.id,
          revision: BigInt(stream.length),
          type: event.type,
          created: new Date(),
          data: JSON.parse(JSON.stringify(event.data)),
          metadata: event.metadata === undefined ? undefined : JSON.parse(JSON.stringify(event.metadata)),
          isJson: true,
          position: { commit: 0n, prepare: this.nextPosition },
        };
        stream.push(stored);
        written.push(stored);
      }
    }
    // The events of one append share the commit position of its last event.
    const commit = this.nextPosition;
    for (const stored of written) stored.position.commit = commit;
    this.log.push(...written);
    for (const feed of this.feeds) {
      for (const stored of written) if (matches(feed.filter, stored.streamId)) feed.emitter.emit('data', { event: clone(stored) });
    }
    return written;
  }

  private acknowledge(): void {
    if (!this.loseNextAcknowledgement) return;
    this.loseNextAcknowledgement = false;
    throw new UnavailableError();
  }
}

function matches(filter: Filter | undefined, streamName: string): boolean {
  if (!filter) return !streamName.startsWith('$');
  if (filter.filterOn !== 'streamName') throw new Error('the in-memory client filters on stream names only');
  return 'prefixes' in filter ? filter.prefixes.some((p) => streamName.startsWith(p)) : new RegExp(filter.regex).test(streamName);
}

function compare(a: Position, b: Position): number {
  if (a.commit !== b.commit) return a.commit < b.commit ? -1 : 1;
  return a.prepare === b.prepare ? 0 : a.prepare < b.prepare ? -1 : 1;
}

function clone(event: Stored): Stored {
  return { ...event, data: structuredClone(event.data), metadata: structuredClone(event.metadata), position: { ...event.position } };
}
