/**
 * The CloudEvents 1.0 envelope that every stored and published Custos event carries
 * (see ARCHITECTURE.md, "Event envelope"). Extension attribute names are lower-case, as
 * CloudEvents requires.
 */
export interface CustosEvent<TType extends string = string, TData = unknown> {
  specversion: '1.0';
  /** Unique event id; also the JetStream `Nats-Msg-Id`. */
  id: string;
  /** `/custos/<context>` */
  source: string;
  /** `custos.<context>.<EventName>.v<N>` */
  type: string;
  /** The stream id, e.g. `identity-7f3c...`. */
  subject: string;
  /** When the event was recorded (RFC 3339 UTC). */
  time: string;
  datacontenttype: 'application/json';
  data: TData;
  /** Version of the event inside its stream, starting at 1. */
  streamversion: number;
  /** Position in the store's global log (a decimal string: it is a bigint). */
  globalposition: string;
  correlationid: string;
  causationid: string;
  /** Who caused it: an identity id, `hr:<system>` or `system:<job>`. */
  actor: string;
  /** The short event name (`IdentityHired`), kept beside `type` for convenience. */
  name: TType;
}

/** An event as a command handler hands it to the store, before the store stamps position and version. */
export interface NewEvent<TData = unknown> {
  /** Optional: a caller may fix the id (for deterministic ids derived from a cause); otherwise a UUID is generated. */
  id?: string;
  /** Short event name, past tense: `IdentityHired`. */
  name: string;
  /** Payload version, default 1. */
  version?: number;
  data: TData;
  /** Recorded time; defaults to the store's clock. */
  time?: string;
  correlationId?: string;
  causationId?: string;
  actor: string;
}

/** What the store was asked to expect of a stream before appending. */
export type ExpectedVersion = number | 'no-stream' | 'any';

export interface AppendResult {
  /** The version of the last event written (the stream's new version). */
  nextVersion: number;
  /** The global position of the last event written (decimal string). */
  globalPosition: string;
  /** The stored events, fully enveloped. */
  events: CustosEvent[];
}

/**
 * Where a catch-up reader stands in the global log. PostgreSQL orders commits by
 * (transaction id, position): `tx` is an xid8 and `pos` a bigint, both as decimal strings.
 */
export interface Checkpoint {
  tx: string;
  pos: string;
}

export const START: Checkpoint = Object.freeze({ tx: '0', pos: '0' });

/** The expected version did not match. `actual` is the stream's current version (0 = no stream). */
export class WrongExpectedVersionError extends Error {
  constructor(
    readonly streamId: string,
    readonly expected: ExpectedVersion,
    readonly actual: number,
  ) {
    super(`stream ${streamId}: expected version ${expected}, actual ${actual}`);
    this.name = 'WrongExpectedVersionError';
  }
}
