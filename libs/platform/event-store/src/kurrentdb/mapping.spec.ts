import {
  NO_STREAM,
  START as KURRENT_START,
  StreamNotFoundError,
  UnavailableError,
  UnsupportedError,
  WrongExpectedVersionError as KurrentWrongExpectedVersionError,
  streamNameFilter,
} from '@kurrent/kurrentdb-client';
import { START, WrongExpectedVersionError } from '../event';
import { compareCheckpoints } from '../sql-subscription';
import {
  deterministicEventId,
  isAfter,
  isKurrentWrongExpectedVersion,
  isStreamNotFound,
  isUnsupported,
  KurrentStreamNames,
  toCheckpoint,
  toCustosEvent,
  toEventData,
  toFromRevision,
  toPosition,
  toReadPosition,
  toStreamState,
  toWrongExpectedVersion,
  versionOfRevision,
  versionOfState,
  type KurrentDraft,
} from './mapping';

const names = new KurrentStreamNames('identity');

describe('stream names and the $all filter', () => {
  it('prefixes a Custos stream id with its context and maps it back', () => {
    expect(names.toKurrent('identity-7f3c')).toBe('custos.identity.identity-7f3c');
    expect(names.toCustos('custos.identity.identity-7f3c')).toBe('identity-7f3c');
    // Another context's streams, a context whose name extends this one, and system streams are not this context's.
    expect(names.toCustos('custos.entitlement.access-1')).toBeNull();
    expect(names.toCustos('custos.identityx.identity-1')).toBeNull();
    expect(names.toCustos('$streams')).toBeNull();
  });

  it('takes a prefix of its own (tests, several deployments on one server), never a system one', () => {
    expect(new KurrentStreamNames('identity', 't1.custos.identity.').toKurrent('identity-1')).toBe('t1.custos.identity.identity-1');
    expect(() => new KurrentStreamNames('identity', '$custos.')).toThrow(RangeError);
    expect(() => new KurrentStreamNames('identity', '')).toThrow(RangeError);
  });

  it("filters $all on the server by the context's prefix, or by the prefixes of the streams asked for", () => {
    expect(names.filter()).toEqual(streamNameFilter({ prefixes: ['custos.identity.'] }));
    expect(names.filter()).toMatchObject({ filterOn: 'streamName', prefixes: ['custos.identity.'] });
    expect(names.filter(['identity-', 'hr-'])).toMatchObject({ filterOn: 'streamName', prefixes: ['custos.identity.identity-', 'custos.identity.hr-'] });
    expect(names.filter([])).toMatchObject({ prefixes: ['custos.identity.'] });
  });
});

describe('versions and expected states', () => {
  it('counts versions from 1 where KurrentDB counts revisions from 0', () => {
    expect(versionOfRevision(0n)).toBe(1);
    expect(versionOfRevision(41n)).toBe(42);
    expect(versionOfState(NO_STREAM)).toBe(0);
    expect(versionOfState(4n)).toBe(5);
  });

  it("asks KurrentDB for the stream state that the port's expected version means", () => {
    expect(toStreamState('any')).toBe('any');
    expect(toStreamState('no-stream')).toBe(NO_STREAM);
    expect(toStreamState(0)).toBe(NO_STREAM);
    expect(toStreamState(1)).toBe(0n);
    expect(toStreamState(7)).toBe(6n);
  });

  it('reads a stream from a version as from the revision before it', () => {
    expect(toFromRevision(1)).toBe(KURRENT_START);
    expect(toFromRevision(0)).toBe(KURRENT_START);
    expect(toFromRevision(5)).toBe(4n);
  });
});

describe('positions and checkpoints', () => {
  it('maps a KurrentDB position to {tx: commit, pos: prepare} and back, exactly beyond 2^53', () => {
    const position = { commit: 9_007_199_254_740_993n, prepare: 9_007_199_254_740_991n };
    expect(toCheckpoint(position)).toEqual({ tx: '9007199254740993', pos: '9007199254740991' });
    expect(toPosition(toCheckpoint(position))).toEqual(position);
    expect(toReadPosition(START)).toBe(KURRENT_START);
    expect(toReadPosition({ tx: '12', pos: '10' })).toEqual({ commit: 12n, prepare: 10n });
  });

  it("orders checkpoints as $all does (commit, then prepare), so compareCheckpoints holds for KurrentDB's too", () => {
    // Two events of one append share a commit position; the next append commits later.
    const first = toCheckpoint({ commit: 300n, prepare: 200n });
    const second = toCheckpoint({ commit: 300n, prepare: 300n });
    const next = toCheckpoint({ commit: 400n, prepare: 400n });
    expect(compareCheckpoints(first, second)).toBe(-1);
    expect(compareCheckpoints(second, next)).toBe(-1);
    expect(compareCheckpoints(next, next)).toBe(0);
    expect(isAfter({ commit: 300n, prepare: 300n }, first)).toBe(true);
    expect(isAfter({ commit: 300n, prepare: 200n }, first)).toBe(false);
    expect(isAfter({ commit: 299n, prepare: 299n }, first)).toBe(false);
    expect(isAfter({ commit: 1n, prepare: 1n }, START)).toBe(true);
  });
});

describe('errors', () => {
  it("maps KurrentDB's wrong expected version to the port's conflict with the actual version", () => {
    const kurrent = new KurrentWrongExpectedVersionError(undefined, { streamName: 'custos.identity.identity-1', expected: 0n, current: 2n });
    expect(isKurrentWrongExpectedVersion(kurrent)).toBe(true);
    const mapped = toWrongExpectedVersion(kurrent, { streamId: 'identity-1', expected: 1 }, names);
    expect(mapped).toBeInstanceOf(WrongExpectedVersionError);
    expect(mapped).toMatchObject({ streamId: 'identity-1', expected: 1, actual: 3 });

    const none = new KurrentWrongExpectedVersionError(undefined, { streamName: 'custos.identity.identity-2', expected: 4n, current: NO_STREAM });
    expect(toWrongExpectedVersion(none, { streamId: 'identity-2', expected: 5 }, names)).toMatchObject({ actual: 0 });
  });

  it('names the stream that refused a multi-stream append, with the expectation the caller gave it', () => {
    const refused = KurrentWrongExpectedVersionError.fromRevisionConflict({ stream: 'custos.identity.b', expectedRevision: '-1', actualRevision: '0' });
    expect(refused).toMatchObject({ streamName: 'custos.identity.b', expectedState: NO_STREAM, actualState: 0n });
    const expected = new Map<string, 'no-stream' | number>([['a', 3], ['b', 'no-stream']]);
    expect(toWrongExpectedVersion(refused, { streamId: 'a', expected: 3 }, names, (id) => expected.get(id))).toMatchObject({
      streamId: 'b',
      expected: 'no-stream',
      actual: 1,
    });
  });

  it('recognises a missing stream, and a server that does not know the multi-stream append', () => {
    expect(isStreamNotFound(new StreamNotFoundError(undefined, 'custos.identity.x'))).toBe(true);
    expect(isStreamNotFound(new UnavailableError())).toBe(false);
    expect(isUnsupported(new UnsupportedError('multiStreamAppend', '25.1.0'))).toBe(true);
    expect(isUnsupported({ code: 12, message: 'UNIMPLEMENTED' })).toBe(true);
    expect(isUnsupported(new UnavailableError())).toBe(false);
    expect(isKurrentWrongExpectedVersion(new UnavailableError())).toBe(false);
  });
});

describe('the CloudEvents envelope through event type, data and metadata', () => {
  const draft: KurrentDraft = {
    id: '0f8fad5b-d9cb-469f-a165-70867728950e',
    name: 'IdentityHired',
    type: 'custos.identity.IdentityHired.v2',
    data: { department: 'Sales', tags: ['a'] },
    time: '2024-05-01T10:00:00.000Z',
    correlationId: 'corr-1',
    causationId: 'cause-1',
    actor: 'hr:workday',
  };

  it('writes the type as the event type, the payload as JSON data and the rest as string-valued metadata', () => {
    const data = toEventData(draft, 'identity', 'identity-1');
    expect(data).toEqual({
      id: draft.id,
      contentType: 'application/json',
      type: 'custos.identity.IdentityHired.v2',
      data: { department: 'Sales', tags: ['a'] },
      metadata: {
        $correlationId: 'corr-1',
        $causationId: 'cause-1',
        specversion: '1.0',
        source: '/custos/identity',
        subject: 'identity-1',
        time: '2024-05-01T10:00:00.000Z',
        actor: 'hr:workday',
        name: 'IdentityHired',
      },
    });
    // KurrentDB 25.1's multi-stream append takes string values only.
    expect(Object.values(data.metadata as object).every((v) => typeof v === 'string')).toBe(true);
    expect(toEventData({ ...draft, data: undefined }, 'identity', 'identity-1').data).toBeNull();
  });

  it('rebuilds the same envelope from the recorded event, its revision and its position', () => {
    const written = toEventData(draft, 'identity', 'identity-1');
    const recorded = {
      streamId: 'custos.identity.identity-1',
      id: written.id,
      revision: 2n,
      type: written.type,
      created: new Date('2024-05-01T10:00:01.234Z'),
      data: JSON.parse(JSON.stringify(written.data)),
      metadata: JSON.parse(JSON.stringify(written.metadata)),
      position: { commit: 5000n, prepare: 4900n },
    };
    expect(toCustosEvent(recorded, names, 'identity')).toEqual({
      specversion: '1.0',
      id: draft.id,
      source: '/custos/identity',
      type: 'custos.identity.IdentityHired.v2',
      subject: 'identity-1',
      time: '2024-05-01T10:00:00.000Z',
      datacontenttype: 'application/json',
      data: { department: 'Sales', tags: ['a'] },
      streamversion: 3,
      globalposition: '4900',
      correlationid: 'corr-1',
      causationid: 'cause-1',
      actor: 'hr:workday',
      name: 'IdentityHired',
    });
  });

  it('derives what an event written by another tool lacks: subject, name, recorded time, correlation', () => {
    const event = toCustosEvent(
      {
        streamId: 'custos.identity.identity-9',
        id: 'e1',
        revision: 0n,
        type: 'custos.identity.IdentityMoved.v1',
        created: new Date('2024-01-02T03:04:05.678Z'),
        data: { x: 1 },
        metadata: undefined,
        position: { commit: 1n, prepare: 1n },
      },
      names,
      'identity',
    );
    expect(event).toMatchObject({ subject: 'identity-9', name: 'IdentityMoved', time: '2024-01-02T03:04:05.678Z', correlationid: 'e1', causationid: 'e1', streamversion: 1 });
    expect(() => toCustosEvent({ ...event, streamId: 'x', revision: 0n, created: new Date(), position: undefined }, names, 'identity')).toThrow(/position/);
  });
});

describe('deterministic event ids', () => {
  const base = { context: 'entitlement', streamId: 'access-1', causationId: 'event-42', ordinal: 0, name: 'AccessGranted' };

  it('is a version 5 UUID, the same for the same cause, stream, ordinal and name', () => {
    const id = deterministicEventId(base);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(deterministicEventId({ ...base })).toBe(id);
  });

  it('differs when any part differs, and parts cannot run into each other', () => {
    const id = deterministicEventId(base);
    for (const change of [{ context: 'identity' }, { streamId: 'access-2' }, { causationId: 'event-43' }, { ordinal: 1 }, { name: 'AccessRevoked' }]) {
      expect(deterministicEventId({ ...base, ...change })).not.toBe(id);
    }
    expect(deterministicEventId({ ...base, streamId: 'a|b', causationId: 'c' })).not.toBe(deterministicEventId({ ...base, streamId: 'a', causationId: 'b|c' }));
  });
});
