import { createHash } from 'node:crypto';
import {
  ErrorType,
  NO_STREAM,
  START as KURRENT_START,
  streamNameFilter,
  type AppendStreamState,
  type CurrentStreamState,
  type EventData,
  type Filter,
  type Position,
  type ReadPosition,
  type ReadRevision,
} from '@kurrent/kurrentdb-client';
import { START, WrongExpectedVersionError, type Checkpoint, type CustosEvent, type ExpectedVersion } from '../event';

/**
 * The pure mappings between Custos's event-store port and KurrentDB's client types, kept apart from
 * the adapter so each can be specified without a server (kurrentdb/mapping.spec.ts).
 *
 * Streams: a Custos stream id (`identity-7f3c`) of context `identity` is the KurrentDB stream
 * `custos.identity.identity-7f3c`: one prefix per context, so that several contexts (and other
 * systems) share a server, `$all` reads are filtered server-side to one context by that prefix, and
 * nothing starts with `$` (KurrentDB's system streams).
 *
 * Versions: Custos counts a stream's events from 1 (version 0 = no stream), KurrentDB numbers
 * revisions from 0, so version = revision + 1.
 *
 * Positions: a KurrentDB position {commit, prepare} is the port's Checkpoint {tx: commit, pos:
 * prepare}; `$all` is ordered by commit then prepare, the order compareCheckpoints uses. An event's
 * `globalposition` is its prepare position, unique per event (the events of one append share a
 * commit position).
 */

/** KurrentDB stream names of one context: `<prefix><streamId>`, the prefix `custos.<context>.` unless given. */
export class KurrentStreamNames {
  readonly prefix: string;

  constructor(context: string, prefix?: string) {
    this.prefix = prefix ?? `custos.${context}.`;
    if (this.prefix === '' || this.prefix.startsWith('$')) {
      throw new RangeError(`a KurrentDB stream prefix must be non-empty and not start with $ (system streams), got ${JSON.stringify(this.prefix)}`);
    }
  }

  toKurrent(streamId: string): string {
    return this.prefix + streamId;
  }

  /** The Custos stream id of a KurrentDB stream name, or null for a stream of another context. */
  toCustos(streamName: string): string | null {
    return streamName.startsWith(this.prefix) ? streamName.slice(this.prefix.length) : null;
  }

  /**
   * The server-side filter of `$all` reads: this context's streams, or only those of its streams
   * whose ids start with one of `streamPrefixes` (`identity-`).
   */
  filter(streamPrefixes?: string[]): Filter {
    const prefixes = streamPrefixes && streamPrefixes.length > 0 ? streamPrefixes.map((p) => this.prefix + p) : [this.prefix];
    return streamNameFilter({ prefixes });
  }
}

/**
 * What KurrentDB keeps of the envelope besides the event's id, type and data: string values only
 * (KurrentDB 25.1's multi-stream append takes nothing else), under CloudEvents' attribute names,
 * with KurrentDB's own `$correlationId` and `$causationId` so that its system projections
 * ($by_correlation_id) see them.
 */
export interface CustosMetadata {
  $correlationId: string;
  $causationId: string;
  specversion: '1.0';
  source: string;
  subject: string;
  /** The effective time: the caller's, or the adapter's clock at the append (RFC 3339 UTC). */
  time: string;
  actor: string;
  name: string;
}

/** An event ready to be written: id, type, time and correlation fixed. */
export interface KurrentDraft {
  id: string;
  name: string;
  type: string;
  data: unknown;
  time: string;
  correlationId: string;
  causationId: string;
  actor: string;
}

/** toEventData is what the client appends for a drafted event of stream `streamId`. */
export function toEventData(draft: KurrentDraft, context: string, streamId: string): EventData {
  const metadata: CustosMetadata = {
    $correlationId: draft.correlationId,
    $causationId: draft.causationId,
    specversion: '1.0',
    source: `/custos/${context}`,
    subject: streamId,
    time: draft.time,
    actor: draft.actor,
    name: draft.name,
  };
  return {
    id: draft.id,
    contentType: 'application/json',
    type: draft.type,
    // JSON.stringify(undefined) is no JSON at all: an absent payload is stored as null, as the SQL store does.
    data: (draft.data ?? null) as EventData['data'] & object,
    metadata: metadata as unknown as Record<string, string>,
  } as EventData;
}

/** A recorded event as the client hands it back (read, or read from `$all`). */
export interface RecordedLike {
  streamId: string;
  id: string;
  revision: bigint;
  type: string;
  created: Date;
  data: unknown;
  metadata?: unknown;
  position?: Position;
}

const TYPE = /^custos\.([a-z][a-z0-9-]*)\.(.+)\.v(\d+)$/;

/**
 * toCustosEvent rebuilds the CloudEvents envelope of a recorded event. Attributes missing from its
 * metadata (an event written by another tool) are derived: the subject from the stream name, the
 * name from the type, the time from KurrentDB's recorded time, correlation and causation from the id.
 */
export function toCustosEvent(recorded: RecordedLike, names: KurrentStreamNames, context: string): CustosEvent {
  const meta = (isRecord(recorded.metadata) ? recorded.metadata : {}) as Partial<Record<keyof CustosMetadata, unknown>>;
  const text = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);
  if (!recorded.position) throw new Error(`KurrentDB returned event ${recorded.id} without its position: KurrentDB 22.6 or later is required`);
  const correlationId = text(meta.$correlationId) ?? recorded.id;
  return {
    specversion: '1.0',
    id: recorded.id,
    source: text(meta.source) ?? `/custos/${context}`,
    type: recorded.type,
    subject: text(meta.subject) ?? names.toCustos(recorded.streamId) ?? recorded.streamId,
    time: text(meta.time) ?? recorded.created.toISOString(),
    datacontenttype: 'application/json',
    data: recorded.data,
    streamversion: versionOfRevision(recorded.revision),
    globalposition: recorded.position.prepare.toString(),
    correlationid: correlationId,
    causationid: text(meta.$causationId) ?? correlationId,
    actor: text(meta.actor) ?? 'unknown',
    name: text(meta.name) ?? TYPE.exec(recorded.type)?.[2] ?? recorded.type,
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array);
}

/** A stream's version (events counted from 1) of a KurrentDB revision (counted from 0). */
export function versionOfRevision(revision: bigint): number {
  return Number(revision) + 1;
}

/** The stream's version of what KurrentDB says its current state is: no stream = 0. */
export function versionOfState(state: CurrentStreamState): number {
  return state === NO_STREAM ? 0 : versionOfRevision(state);
}

/** What KurrentDB is asked to expect of a stream for the port's expected version. */
export function toStreamState(expected: ExpectedVersion): AppendStreamState {
  if (expected === 'any') return 'any';
  if (expected === 'no-stream' || expected === 0) return NO_STREAM;
  return BigInt(expected - 1);
}

/** Where a stream read from `fromVersion` (inclusive, counted from 1) starts. */
export function toFromRevision(fromVersion: number): ReadRevision {
  return fromVersion <= 1 ? KURRENT_START : BigInt(fromVersion - 1);
}

/** The port's checkpoint of a KurrentDB position. */
export function toCheckpoint(position: Position): Checkpoint {
  return { tx: position.commit.toString(), pos: position.prepare.toString() };
}

/** The KurrentDB position of a checkpoint; START is KurrentDB's start of `$all`. */
export function toPosition(checkpoint: Checkpoint): Position {
  return { commit: BigInt(checkpoint.tx), prepare: BigInt(checkpoint.pos) };
}

export function toReadPosition(checkpoint: Checkpoint): ReadPosition {
  return checkpoint.tx === START.tx && checkpoint.pos === START.pos ? KURRENT_START : toPosition(checkpoint);
}

/** Whether `position` lies strictly after `checkpoint` in `$all` order (commit, then prepare). */
export function isAfter(position: Position, checkpoint: Checkpoint): boolean {
  const commit = BigInt(checkpoint.tx);
  return position.commit > commit || (position.commit === commit && position.prepare > BigInt(checkpoint.pos));
}

/** The client's error for a stream that was not at the expected state (classic and multi-stream appends alike). */
interface KurrentWrongExpectedVersion {
  type: ErrorType.WRONG_EXPECTED_VERSION;
  streamName: string;
  actualState: CurrentStreamState;
}

export function isKurrentWrongExpectedVersion(error: unknown): error is KurrentWrongExpectedVersion {
  return typeof error === 'object' && error !== null && (error as { type?: unknown }).type === ErrorType.WRONG_EXPECTED_VERSION;
}

export function isStreamNotFound(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { type?: unknown }).type === ErrorType.STREAM_NOT_FOUND;
}

/** The server does not know the call (a multi-stream append before KurrentDB 25.1): gRPC UNIMPLEMENTED, or the client's own refusal. */
export function isUnsupported(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const e = error as { type?: unknown; code?: unknown };
  return e.type === ErrorType.UNSUPPORTED || e.code === 12;
}

/**
 * The port's conflict for KurrentDB's wrong-expected-version error, with the stream's actual
 * version; `streamIdOf` maps the KurrentDB stream name back (the multi-stream append names it).
 */
export function toWrongExpectedVersion(
  error: KurrentWrongExpectedVersion,
  fallback: { streamId: string; expected: ExpectedVersion },
  names: KurrentStreamNames,
  expectedOf: (streamId: string) => ExpectedVersion | undefined = () => undefined,
): WrongExpectedVersionError {
  const streamId = (error.streamName && names.toCustos(error.streamName)) || fallback.streamId;
  const expected = streamId === fallback.streamId ? fallback.expected : (expectedOf(streamId) ?? fallback.expected);
  return new WrongExpectedVersionError(streamId, expected, versionOfState(error.actualState));
}

/** Fixed namespace of Custos's name-based event ids (a random UUID, chosen once). */
const EVENT_ID_NAMESPACE = Buffer.from('5b0e6f1c8d2a4f7e9c3b1a2d4e6f8a0b', 'hex');

/**
 * deterministicEventId is a name-based (version 5) UUID for the `ordinal`-th event of `name` that
 * one cause appends to one stream. A unit of work retried after its events reached KurrentDB but
 * its SQL transaction did not commit derives the same ids again, so what was stored is recognised
 * and not stored twice (see KurrentEventStore, "appends in a unit of work").
 */
export function deterministicEventId(parts: { context: string; streamId: string; causationId: string; ordinal: number; name: string }): string {
  const key = [parts.context, parts.streamId, parts.causationId, String(parts.ordinal), parts.name].map((p) => `${p.length}:${p}`).join('|');
  const hash = createHash('sha1').update(EVENT_ID_NAMESPACE).update(key, 'utf8').digest();
  hash[6] = (hash[6] & 0x0f) | 0x50;
  hash[8] = (hash[8] & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}
