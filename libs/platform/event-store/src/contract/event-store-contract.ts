import { randomUUID } from 'node:crypto';
import { START, WrongExpectedVersionError, type Checkpoint, type CustosEvent, type NewEvent } from '../event';
import type { EventStore } from '../event-store';

/** A store under test: `reopen` closes it and opens a new instance on the same data (a restart). */
export interface EventStoreFixture {
  store: EventStore;
  reopen(): Promise<EventStore>;
  cleanup(): Promise<void>;
  /**
   * A SQL adapter's tables, for the raw-SQL immutability checks: the qualified events table
   * (`schema.events`) and a way to send it statements past the store. Required when the contract
   * runs with `options.sql`.
   */
  sql?: { eventsTable: string; query(text: string, params?: unknown[]): Promise<unknown> };
}

export interface EventStoreContractOptions {
  /**
   * The adapter has a single database connection (PGlite): a second transaction cannot run
   * while one is open, so the interleaving of two open writers cannot be staged.
   */
  singleConnection?: boolean;
  /** A SQL adapter: its events table must refuse UPDATE, DELETE and TRUNCATE (the fixture gives `sql`). */
  sql?: boolean;
  /**
   * Appends inside a unit of work are written to the store when the unit commits (KurrentDB, whose
   * units of work are SQL transactions beside it): a writer outside the unit does not wait for
   * it, and the unit loses at commit instead, writing nothing. The tests of writers waiting for
   * one in flight are replaced by that one.
   */
  unitAppendsAtCommit?: boolean;
  /** Size of the concurrency test; default 16 writers x 200 appends over 8 streams. */
  concurrency?: { writers: number; appendsPerWriter: number; streams: number };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const RFC3339_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

function event(name: string, data: unknown = {}, extra: Partial<NewEvent> = {}): NewEvent {
  return { name, data, actor: 'system:contract-test', ...extra };
}

function streamId(prefix: string): string {
  return `${prefix}-${randomUUID()}`;
}

async function waitFor(what: string, predicate: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the promise to reject');
}

/**
 * Appends one event to a new stream in a transaction that stays open until `commit` is called;
 * resolves once the append is done, so a test can stage what others see meanwhile.
 */
async function appendHeldOpen(store: EventStore, stream: string, name: string): Promise<{ commit(): Promise<void> }> {
  let appended!: () => void;
  const hasAppended = new Promise<void>((resolve) => (appended = resolve));
  let release!: () => void;
  const mayCommit = new Promise<void>((resolve) => (release = resolve));
  const transaction = store.unitOfWork(async (tx) => {
    await store.append(stream, [event(name)], 'no-stream', { tx });
    appended();
    await mayCommit;
  });
  await Promise.race([hasAppended, transaction]);
  return {
    commit: async () => {
      release();
      await transaction;
    },
  };
}

/**
 * Waits until every event committed so far is visible to catch-up readers: on a shared server a
 * transaction another test holds open keeps the visibility horizon back until it ends.
 */
async function allVisible(store: EventStore, timeoutMs = 30_000): Promise<void> {
  const head = await store.head();
  if (head === null) return;
  await waitFor('the committed events to become visible', async () => {
    let checkpoint = START;
    for (;;) {
      const page = await store.readAll(checkpoint, 10_000);
      if (page.events.length === 0) break;
      checkpoint = page.checkpoint;
    }
    return checkpoint.tx === head.tx && checkpoint.pos === head.pos;
  }, timeoutMs);
}

/** Follows the global log from `from` with readAll until `done` says it has seen enough. */
async function follow(store: EventStore, from: Checkpoint, done: (seen: CustosEvent[]) => boolean, timeoutMs = 10_000) {
  const seen: CustosEvent[] = [];
  let checkpoint = from;
  await waitFor('the reader to see the events', async () => {
    const batch = await store.readAll(checkpoint, 100);
    seen.push(...batch.events);
    checkpoint = batch.checkpoint;
    return done(seen);
  }, timeoutMs);
  return { seen, checkpoint };
}

/**
 * eventStoreContract defines the behaviour every EventStore adapter must show: optimistic
 * concurrency per stream, atomic appends that join a caller's transaction, an immutable log,
 * and catch-up subscriptions that deliver every committed event exactly once, in order per
 * stream, across restarts and concurrent writers.
 */
export function eventStoreContract(
  name: string,
  factory: () => Promise<EventStoreFixture>,
  options: EventStoreContractOptions = {},
): void {
  const concurrency = options.concurrency ?? { writers: 16, appendsPerWriter: 200, streams: 8 };

  describe(`${name} event store contract`, () => {
    let fixture: EventStoreFixture;
    let store: EventStore;

    beforeEach(async () => {
      fixture = await factory();
      store = fixture.store;
    }, 60_000);

    afterEach(async () => {
      await fixture?.cleanup();
    }, 60_000);

    describe('append and readStream', () => {
      it('stores events with the full CloudEvents envelope and reads them back in version order', async () => {
        const stream = streamId('identity');
        const fixedId = randomUUID();
        const before = Date.now();
        const result = await store.append(
          stream,
          [
            event('IdentityHired', { department: 'Sales', tags: ['a', 'b'] }, { actor: 'hr:workday', time: '2024-05-01T10:00:00.000Z' }),
            event('IdentityMoved', { department: 'Finance' }, { id: fixedId, version: 2, correlationId: 'corr-1' }),
          ],
          'no-stream',
        );

        expect(result.nextVersion).toBe(2);
        expect(result.events).toHaveLength(2);
        const [hired, moved] = result.events;
        expect(hired).toEqual({
          specversion: '1.0',
          id: expect.stringMatching(UUID),
          source: `/custos/${store.context}`,
          type: `custos.${store.context}.IdentityHired.v1`,
          subject: stream,
          time: '2024-05-01T10:00:00.000Z',
          datacontenttype: 'application/json',
          data: { department: 'Sales', tags: ['a', 'b'] },
          streamversion: 1,
          globalposition: expect.stringMatching(/^\d+$/),
          correlationid: hired.id,
          causationid: hired.id,
          actor: 'hr:workday',
          name: 'IdentityHired',
        });
        expect(moved).toMatchObject({
          id: fixedId,
          type: `custos.${store.context}.IdentityMoved.v2`,
          streamversion: 2,
          correlationid: 'corr-1',
          causationid: 'corr-1',
          actor: 'system:contract-test',
          name: 'IdentityMoved',
        });
        expect(moved.time).toMatch(RFC3339_UTC);
        // The store's clock stamps events without a time; allow for clock skew to a server.
        expect(Math.abs(Date.parse(moved.time) - before)).toBeLessThan(60_000);
        expect(BigInt(moved.globalposition)).toBeGreaterThan(BigInt(hired.globalposition));
        expect(result.globalPosition).toBe(moved.globalposition);

        expect(await store.readStream(stream)).toEqual(result.events);
        expect(await store.readStream(stream, 2)).toEqual([moved]);
        expect(await store.readStream(streamId('never-written'))).toEqual([]);
      });

      it('refuses no-stream on an existing stream and a wrong version, reporting the actual version', async () => {
        const stream = streamId('request');
        await store.append(stream, [event('AccessRequestSubmitted'), event('ApprovalRecorded')], 'no-stream');

        for (const expected of ['no-stream', 0, 1, 3, 7] as const) {
          const error = await rejection(store.append(stream, [event('ApprovalRecorded')], expected));
          expect(error).toBeInstanceOf(WrongExpectedVersionError);
          expect(error).toMatchObject({ streamId: stream, expected, actual: 2 });
        }
        const missing = await rejection(store.append(streamId('absent'), [event('AccessRequestSubmitted')], 4));
        expect(missing).toMatchObject({ expected: 4, actual: 0 });

        const next = await store.append(stream, [event('AccessGranted')], 2);
        expect(next.nextVersion).toBe(3);
        expect((await store.readStream(stream)).map((e) => e.name)).toEqual(['AccessRequestSubmitted', 'ApprovalRecorded', 'AccessGranted']);
      });

      (options.unitAppendsAtCommit ? it : it.skip)('lets a unit of work that appended lose at commit to a writer outside it, writing nothing', async () => {
        const contested = streamId('identity');
        const other = streamId('identity');
        const held = store.unitOfWork(async (tx) => {
          await store.append(other, [event('IdentityHired')], 'no-stream', { tx });
          await store.append(contested, [event('IdentityHired')], 'no-stream', { tx });
          // A writer outside the unit is not held back by it.
          await store.append(contested, [event('IdentityMoved')], 'no-stream');
        });
        expect(await rejection(held)).toMatchObject({ name: 'WrongExpectedVersionError', streamId: contested, expected: 'no-stream', actual: 1 });
        expect((await store.readStream(contested)).map((e) => e.name)).toEqual(['IdentityMoved']);
        expect(await store.readStream(other)).toEqual([]);
      });

      (options.singleConnection || options.unitAppendsAtCommit ? it.skip : it)(
        'waits for a writer in flight on the same version, then writes nothing and reports the version it left',
        async () => {
          const bystander = streamId('identity');
          const stale = streamId('identity');
          await store.append(stale, [event('IdentityHired'), event('IdentityMoved')], 'no-stream');
          expect(await rejection(store.append(stale, [event('IdentityMoved'), event('IdentityMoved')], 1))).toMatchObject({ actual: 2 });
          for (const { events, inTx } of [
            { events: 1, inTx: false },
            { events: 3, inTx: false },
            { events: 1, inTx: true },
            { events: 3, inTx: true },
          ]) {
            const contested = streamId('identity');
            const first = await appendHeldOpen(store, contested, 'IdentityHired');
            const mine = Array.from({ length: events }, () => event('IdentityMoved', {}, { id: randomUUID() }));
            let settled = false;
            // Sees no stream yet (the first writer has not committed), so it tries version 1 and waits.
            const second = (
              inTx
                ? store.unitOfWork(async (tx) => {
                    const conflict = await rejection(store.append(contested, mine, 'no-stream', { tx }));
                    // The caller's transaction is still usable after the conflict.
                    await store.append(bystander, [event('IdentityHired')], 'any', { tx });
                    return conflict;
                  })
                : rejection(store.append(contested, mine, 'no-stream'))
            ).finally(() => (settled = true));
            await new Promise((resolve) => setTimeout(resolve, 150));
            expect(settled).toBe(false);
            await first.commit();
            const conflict = await second;
            expect(conflict).toBeInstanceOf(WrongExpectedVersionError);
            expect(conflict).toMatchObject({ streamId: contested, expected: 'no-stream', actual: 1 });
            expect((await store.readStream(contested)).map((e) => e.name)).toEqual(['IdentityHired']);
          }
          expect(await store.readStream(bystander)).toHaveLength(2);

          // 'any' waits too, and then appends after the writer it waited for.
          const shared = streamId('identity');
          const first = await appendHeldOpen(store, shared, 'IdentityHired');
          const any = store.append(shared, [event('IdentityMoved')], 'any');
          await new Promise((resolve) => setTimeout(resolve, 150));
          await first.commit();
          expect((await any).nextVersion).toBe(2);
          expect((await store.readStream(shared)).map((e) => e.name)).toEqual(['IdentityHired', 'IdentityMoved']);
        },
        30_000,
      );

      it("appends with 'any' whatever the stream's version", async () => {
        const stream = streamId('entitlement');
        expect((await store.append(stream, [event('EntitlementDefined')], 'any')).nextVersion).toBe(1);
        expect((await store.append(stream, [event('EntitlementRenamed'), event('EntitlementRenamed')], 'any')).nextVersion).toBe(3);
        expect((await store.readStream(stream)).map((e) => e.streamversion)).toEqual([1, 2, 3]);
      });

      it('treats an empty append as a version check that writes nothing', async () => {
        const stream = streamId('role');
        await store.append(stream, [event('RoleDefined')], 'no-stream');
        expect((await store.append(stream, [], 1)).nextVersion).toBe(1);
        expect(await rejection(store.append(stream, [], 'no-stream'))).toBeInstanceOf(WrongExpectedVersionError);
        expect(await store.readStream(stream)).toHaveLength(1);
      });
    });

    describe('appendStreams and readStreams', () => {
      it('appends to several streams in one call, each at its expected version, and reads them back together', async () => {
        const fresh = streamId('identity');
        const existing = streamId('identity');
        await store.append(existing, [event('IdentityHired'), event('IdentityMoved')], 'no-stream');

        const [first, second] = await store.appendStreams([
          { streamId: fresh, events: [event('IdentityHired', { n: 1 }), event('IdentityActivated', { n: 2 })], expectedVersion: 'no-stream' },
          { streamId: existing, events: [event('IdentityTerminated', { n: 3 }, { correlationId: 'corr-x' })], expectedVersion: 2 },
        ]);
        expect(first.map((e) => [e.subject, e.streamversion, e.name])).toEqual([
          [fresh, 1, 'IdentityHired'],
          [fresh, 2, 'IdentityActivated'],
        ]);
        expect(second).toEqual([expect.objectContaining({ subject: existing, streamversion: 3, name: 'IdentityTerminated', correlationid: 'corr-x', data: { n: 3 } })]);
        expect(BigInt(second[0].globalposition)).toBeGreaterThan(BigInt(first[1].globalposition));

        const read = await store.readStreams([existing, fresh, streamId('absent')]);
        expect(read.get(fresh)).toEqual(first);
        expect(read.get(existing)?.map((e) => e.streamversion)).toEqual([1, 2, 3]);
        expect(read.get(existing)?.[2]).toEqual(second[0]);
        expect([...read.values()][2]).toEqual([]);
      });

      it('writes nothing at all when one stream is not at its expected version, naming that stream', async () => {
        const good = streamId('identity');
        const moved = streamId('identity');
        await store.append(moved, [event('IdentityHired')], 'no-stream');
        for (const expected of ['no-stream', 2] as const) {
          const error = await rejection(
            store.appendStreams([
              { streamId: good, events: [event('IdentityHired')], expectedVersion: 'no-stream' },
              { streamId: moved, events: [event('IdentityMoved')], expectedVersion: expected },
            ]),
          );
          expect(error).toBeInstanceOf(WrongExpectedVersionError);
          expect(error).toMatchObject({ streamId: moved, expected, actual: 1 });
        }
        expect(await store.readStream(good)).toEqual([]);
        expect(await store.readStream(moved)).toHaveLength(1);
        expect(await rejection(store.appendStreams([{ streamId: good, events: [event('A')], expectedVersion: 'no-stream' }, { streamId: good, events: [event('B')], expectedVersion: 'no-stream' }]))).toBeInstanceOf(RangeError);
      });

      (options.singleConnection || options.unitAppendsAtCommit ? it.skip : it)('loses to a writer that took a version while it waited, writing nothing', async () => {
        const contested = streamId('identity');
        const bystander = streamId('identity');
        const first = await appendHeldOpen(store, contested, 'IdentityHired');
        // Sees no stream yet, so its head check passes; the insert then waits on the first writer's key.
        const second = rejection(
          store.appendStreams([
            { streamId: bystander, events: [event('IdentityHired')], expectedVersion: 'no-stream' },
            { streamId: contested, events: [event('IdentityHired')], expectedVersion: 'no-stream' },
          ]),
        );
        await new Promise((resolve) => setTimeout(resolve, 100));
        await first.commit();
        expect(await second).toMatchObject({ name: 'WrongExpectedVersionError', streamId: contested, expected: 'no-stream', actual: 1 });
        expect(await store.readStream(bystander)).toEqual([]);
      });

      it('joins a caller transaction: a rollback leaves none of the streams written', async () => {
        const a = streamId('identity');
        const b = streamId('identity');
        const abort = new Error('caller aborts');
        const error = await rejection(
          store.unitOfWork(async (tx) => {
            await store.appendStreams([{ streamId: a, events: [event('IdentityHired')], expectedVersion: 'no-stream' }, { streamId: b, events: [event('IdentityHired')], expectedVersion: 'no-stream' }], { tx });
            expect((await store.readStreams([a, b], { tx })).get(b)).toHaveLength(1);
            throw abort;
          }),
        );
        expect(error).toBe(abort);
        expect([...(await store.readStreams([a, b])).values()]).toEqual([[], []]);
      });
    });

    describe('transactions', () => {
      it('leaves nothing behind when the caller transaction rolls back', async () => {
        const stream = streamId('identity');
        const abort = new Error('caller aborts');
        const error = await rejection(
          store.unitOfWork(async (tx) => {
            await store.append(stream, [event('IdentityHired')], 'no-stream', { tx });
            expect(await store.readStream(stream, 1, { tx })).toHaveLength(1);
            throw abort;
          }),
        );
        expect(error).toBe(abort);
        expect(await store.readStream(stream)).toEqual([]);
        const all = await store.readAll(START, 10_000);
        expect(all.events.filter((e) => e.subject === stream)).toEqual([]);
      });

      it('keeps the caller transaction usable after a version conflict inside it', async () => {
        const taken = streamId('identity');
        const other = streamId('identity');
        await store.append(taken, [event('IdentityHired')], 'no-stream');
        await store.unitOfWork(async (tx) => {
          const conflict = await rejection(store.append(taken, [event('IdentityHired')], 'no-stream', { tx }));
          expect(conflict).toMatchObject({ name: 'WrongExpectedVersionError', actual: 1 });
          await store.append(other, [event('IdentityHired')], 'no-stream', { tx });
        });
        expect(await store.readStream(taken)).toHaveLength(1);
        expect(await store.readStream(other)).toHaveLength(1);
      });
    });

    (options.sql ? describe : describe.skip)('immutability of the SQL events table', () => {
      it('refuses UPDATE, DELETE and TRUNCATE of stored events', async () => {
        const sql = fixture.sql;
        if (!sql) throw new Error('a SQL adapter\'s fixture gives `sql` (its events table and a raw query)');
        const table = sql.eventsTable;
        const stream = streamId('audit');
        const { events } = await store.append(stream, [event('IdentityHired', { n: 1 })], 'no-stream');

        for (const statement of [
          `UPDATE ${table} SET data = '{"n": 2}'::jsonb WHERE stream_id = $1`,
          `DELETE FROM ${table} WHERE stream_id = $1`,
        ]) {
          const error = await rejection(sql.query(statement, [stream]));
          expect(String((error as Error).message)).toMatch(/immutable/);
        }
        expect(String(((await rejection(sql.query(`TRUNCATE ${table}`))) as Error).message)).toMatch(/immutable/);
        expect(await store.readStream(stream)).toEqual(events);
      });
    });

    describe('readAll', () => {
      it('pages through committed events in commit order with checkpoints', async () => {
        const streams = [streamId('a'), streamId('b')];
        const written: string[] = [];
        for (let i = 0; i < 25; i++) {
          const { events } = await store.append(streams[i % 2], [event('Counted', { i })], 'any');
          written.push(events[0].id);
        }
        // Twelve events of one transaction: positions 9 -> 10 -> 11 must page in numeric order.
        const batch = await store.append(streams[0], Array.from({ length: 12 }, (_, i) => event('Counted', { i: 25 + i })), 'any');
        written.push(...batch.events.map((e) => e.id));
        await allVisible(store);
        const pages: number[] = [];
        const seen: string[] = [];
        let checkpoint = START;
        for (;;) {
          const page = await store.readAll(checkpoint, 10);
          if (page.events.length === 0) {
            expect(page.checkpoint).toEqual(checkpoint);
            break;
          }
          pages.push(page.events.length);
          seen.push(...page.events.map((e) => e.id));
          checkpoint = page.checkpoint;
        }
        expect(pages).toEqual([10, 10, 10, 7]);
        expect(seen).toEqual(written);
      });

      // PGlite has one connection: while transaction A is open no other statement can run, so
      // the interleaving "A open, B commits, reader reads" cannot happen there and is not staged.
      (options.singleConnection ? it.skip : it)('never skips an event whose transaction commits after a later one', async () => {
        // Writer A appends inside an open transaction; writer B appends and commits after it.
        // However the store orders them, a reader following checkpoints must see both.
        const streamA = streamId('late-a');
        const streamB = streamId('late-b');
        const transactionA = await appendHeldOpen(store, streamA, 'LateCommitted');
        await store.append(streamB, [event('EarlyCommitted')], 'no-stream');

        const seen: CustosEvent[] = [];
        let checkpoint = START;
        for (let i = 0; i < 3; i++) {
          const page = await store.readAll(checkpoint, 100);
          seen.push(...page.events);
          checkpoint = page.checkpoint;
        }
        expect(seen.map((e) => e.subject)).not.toContain(streamA);
        await transactionA.commit();
        const rest = await follow(store, checkpoint, (later) =>
          [...seen, ...later].some((e) => e.subject === streamA) && [...seen, ...later].some((e) => e.subject === streamB),
        );
        const all = [...seen, ...rest.seen];
        expect(all.filter((e) => e.subject === streamA)).toHaveLength(1);
        expect(all.filter((e) => e.subject === streamB)).toHaveLength(1);
      });
    });

    describe('subscriptions', () => {
      it(`delivers every event of ${concurrency.writers} concurrent writers exactly once, in version order per stream`, async () => {
        const streams = Array.from({ length: concurrency.streams }, () => streamId('busy'));
        const delivered: CustosEvent[] = [];
        const subscription = store.subscribe('concurrency-observer', async (events) => {
          delivered.push(...events);
        }, { batchSize: 250 });

        const committed: string[] = [];
        const writer = async (w: number) => {
          // What this writer last learned of each stream's version, as a command handler would.
          const known = new Map<string, number>();
          for (let i = 0; i < concurrency.appendsPerWriter; i++) {
            const stream = streams[(w + i) % streams.length];
            const newEvent = event('Counted', { writer: w, i });
            // Half the writers rely on the store's 'any' retry; half append at the version they
            // believe current and, on conflict, retry at the actual version the error reports.
            if (w % 2 === 0) {
              const { events } = await store.append(stream, [newEvent], 'any');
              committed.push(events[0].id);
              continue;
            }
            for (;;) {
              try {
                const result = await store.append(stream, [newEvent], known.get(stream) ?? 0);
                known.set(stream, result.nextVersion);
                committed.push(result.events[0].id);
                break;
              } catch (error) {
                if (!(error instanceof WrongExpectedVersionError)) throw error;
                known.set(stream, error.actual);
              }
            }
          }
        };
        await Promise.all(Array.from({ length: concurrency.writers }, (_, w) => writer(w)));
        await subscription.caughtUp();
        await subscription.stop();

        const total = concurrency.writers * concurrency.appendsPerWriter;
        expect(committed).toHaveLength(total);
        expect(delivered).toHaveLength(total);
        expect(new Set(delivered.map((e) => e.id))).toEqual(new Set(committed));
        for (const stream of streams) {
          const versions = delivered.filter((e) => e.subject === stream).map((e) => e.streamversion);
          expect(versions).toEqual(versions.map((_, i) => i + 1));
        }
        expect(await store.checkpointOf('concurrency-observer')).toEqual(subscription.position());
      }, 180_000);

      it('wakes its subscribers when a transaction that appended commits, not before', async () => {
        const seen: string[] = [];
        // A poll interval far beyond the test: only a wake-up can deliver in time.
        const subscription = store.subscribe('woken', async (events) => void seen.push(...events.map((e) => e.subject)), { pollIntervalMs: 600_000 });
        await subscription.caughtUp();
        const [single, multi] = [streamId('identity'), streamId('identity')];
        await store.unitOfWork(async (tx) => {
          await store.append(single, [event('IdentityHired')], 'no-stream', { tx });
          await store.appendStreams([{ streamId: multi, events: [event('IdentityHired')], expectedVersion: 'no-stream' }], { tx });
          // Let a too-early wake-up read (and find nothing) before the commit.
          await new Promise((resolve) => setTimeout(resolve, 50));
        });
        await waitFor('both appends delivered', () => seen.includes(single) && seen.includes(multi), 5_000);
        await subscription.stop();
      });

      it('lingers after a wake-up, so that appends close together are handled as one batch', async () => {
        const batches: number[] = [];
        const subscription = store.subscribe('lingering', async (events) => void batches.push(events.length), { pollIntervalMs: 600_000, lingerMs: 300 });
        await subscription.caughtUp();
        const stream = streamId('identity');
        for (let i = 0; i < 5; i++) await store.append(stream, [event('Counted', { i })], 'any');
        await waitFor('the burst delivered', () => batches.reduce((a, b) => a + b, 0) === 5, 5_000);
        expect(batches).toEqual([5]);
        await subscription.stop();
      });

      it('resumes from its stored checkpoint after a restart and delivers only the rest', async () => {
        const stream = streamId('identity');
        const first: string[] = [];
        const before = store.subscribe('resumable', async (events) => {
          first.push(...events.map((e) => e.id));
        });
        const { events: early } = await store.append(stream, Array.from({ length: 10 }, (_, i) => event('Counted', { i })), 'no-stream');
        await before.caughtUp();
        await before.stop();
        expect(first).toEqual(early.map((e) => e.id));
        expect(await store.checkpointOf('resumable')).toEqual(before.position());

        store = await fixture.reopen();
        const { events: late } = await store.append(stream, Array.from({ length: 5 }, (_, i) => event('Counted', { i: 10 + i })), 10);
        const second: string[] = [];
        const after = store.subscribe('resumable', async (events) => {
          second.push(...events.map((e) => e.id));
        });
        await after.caughtUp();
        await after.stop();
        expect(second).toEqual(late.map((e) => e.id));
      }, 60_000);

      it('retries a failed batch without losing or repeating events, and commits effects with the checkpoint', async () => {
        const stream = streamId('identity');
        const errors: unknown[] = [];
        const delivered: string[] = [];
        let failures = 2;
        const subscription = store.subscribe('flaky', async (events) => {
          if (failures-- > 0) throw new Error('projection store unavailable');
          delivered.push(...events.map((e) => e.id));
        }, { onError: (error) => errors.push(error) });
        const { events } = await store.append(stream, [event('IdentityHired'), event('IdentityMoved')], 'no-stream');
        await subscription.caughtUp();
        await subscription.stop();
        expect(errors).toHaveLength(2);
        expect(delivered).toEqual(events.map((e) => e.id));
      }, 30_000);

      it('without a transaction (transactional: false) retries a failed batch, then saves the checkpoint and resumes from it', async () => {
        const stream = streamId('identity');
        const delivered: string[] = [];
        let failures = 1;
        const handler = async (events: CustosEvent[]) => {
          if (failures-- > 0) throw new Error('broker unavailable');
          delivered.push(...events.map((e) => e.id));
        };
        const first = store.subscribe('untransacted', handler, { transactional: false, onError: () => undefined });
        const { events: early } = await store.append(stream, [event('IdentityHired'), event('IdentityMoved')], 'no-stream');
        await first.caughtUp();
        await first.stop();
        expect(delivered).toEqual(early.map((e) => e.id));
        expect(await store.checkpointOf('untransacted')).toEqual(first.position());

        const { events: late } = await store.append(stream, [event('IdentityTerminated')], 2);
        const second = store.subscribe('untransacted', handler, { transactional: false });
        await second.caughtUp();
        await second.stop();
        expect(delivered).toEqual([...early, ...late].map((e) => e.id));
      }, 30_000);

      it('passes only the streams asked for, while the checkpoint still advances past the others', async () => {
        const kept = streamId('keep');
        const skipped = streamId('skip');
        const delivered: string[] = [];
        const subscription = store.subscribe('filtered', async (events) => {
          delivered.push(...events.map((e) => e.subject));
        }, { streamPrefixes: ['keep-'] });
        await store.append(kept, [event('Counted')], 'no-stream');
        await store.append(skipped, [event('Counted')], 'no-stream');
        const last = await store.append(skipped, [event('Counted')], 1);
        await subscription.caughtUp();
        await subscription.stop();
        expect(delivered).toEqual([kept]);
        expect(subscription.position().pos).toBe(last.globalPosition);
      });

      it('starts from options.from when it has no stored checkpoint, and reports none for unknown names', async () => {
        expect(await store.checkpointOf('never-subscribed')).toBeNull();
        const stream = streamId('identity');
        await store.append(stream, [event('IdentityHired')], 'no-stream');
        await allVisible(store);
        const { checkpoint } = await store.readAll(START, 10_000);
        const { events: later } = await store.append(stream, [event('IdentityMoved')], 1);
        const delivered: string[] = [];
        const subscription = store.subscribe('from-checkpoint', async (events) => {
          delivered.push(...events.map((e) => e.id));
        }, { from: checkpoint });
        await subscription.caughtUp();
        await subscription.stop();
        expect(delivered).toEqual(later.map((e) => e.id));
      });
    });
  });
}
