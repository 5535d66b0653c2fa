import { randomUUID } from 'node:crypto';
import type { NewEvent } from '../event';
import { createPgliteDatabase } from '../pglite-database';
import { sqlOf, type SqlDatabase } from '../sql';
import { sqlDatabaseOf } from '../sql-event-store';
import { InMemoryKurrentClient } from './in-memory-kurrent-client';
import { KurrentEventStore } from './kurrent-event-store';

/**
 * The unit of work of a KurrentDB-backed context (a SQL transaction beside KurrentDB whose appends
 * are written just before its COMMIT), its checkpoints and its live feed, over the in-memory
 * stand-in for the client and embedded PostgreSQL.
 */

let db: SqlDatabase;

beforeAll(async () => {
  db = await createPgliteDatabase();
  await db.query('CREATE TABLE inbox (message_id text PRIMARY KEY)');
}, 60_000);

afterAll(async () => {
  await db?.close();
});

async function open(client = new InMemoryKurrentClient(), options: { multiStreamAppend?: 'auto' | 'never' } = {}) {
  const schema = `ku_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  const store = await KurrentEventStore.open({ client, db, context: 'entitlement', schema, ...options });
  return { client, store, schema };
}

const granted = (extra: Partial<NewEvent> = {}): NewEvent => ({ name: 'AccessGranted', data: { key: 'k' }, actor: 'system:lifecycle', ...extra });

async function inboxHas(id: string): Promise<boolean> {
  return (await db.query('SELECT 1 FROM inbox WHERE message_id = $1', [id])).rows.length > 0;
}

/** A process manager's handler: claim the message in the inbox, read the stream, append what it decides, in one unit. */
async function handle(store: KurrentEventStore, messageId: string, stream: string, decide: (version: number) => NewEvent[]) {
  return store.unitOfWork(async (tx) => {
    await sqlOf(tx).query('INSERT INTO inbox (message_id) VALUES ($1)', [messageId]);
    const events = await store.readStream(stream, 1, { tx });
    const decided = decide(events.length);
    if (decided.length > 0) await store.append(stream, decided, events.length === 0 ? 'no-stream' : events.length, { tx });
  });
}

describe('a unit of work of the KurrentDB store', () => {
  it("is a SQL transaction of the database beside KurrentDB: sqlOf reaches it, and the unit's SQL writes and appends commit together", async () => {
    const { store, client } = await open();
    const message = randomUUID();
    let seenInside: number | undefined;
    await store.unitOfWork(async (tx) => {
      await sqlOf(tx).query('INSERT INTO inbox (message_id) VALUES ($1)', [message]);
      const result = await store.append('access-1', [granted()], 'no-stream', { tx });
      // Staged: not in KurrentDB yet, but read back inside the unit, with its version and no position yet.
      expect(client.log).toHaveLength(0);
      expect(result.events[0]).toMatchObject({ streamversion: 1, globalposition: '' });
      seenInside = (await store.readStream('access-1', 1, { tx })).length;
    });
    expect(seenInside).toBe(1);
    expect(await inboxHas(message)).toBe(true);
    expect(client.log.map((e) => e.streamId)).toEqual(['custos.entitlement.access-1']);
    const [stored] = await store.readStream('access-1');
    expect(stored.globalposition).toBe(client.log[0].position.prepare.toString());
  });

  it('completes the events it handed back with their positions before the SQL commit', async () => {
    const { store } = await open();
    let handed: Awaited<ReturnType<KurrentEventStore['append']>> | undefined;
    await store.unitOfWork(async (tx) => {
      handed = await store.append('access-1', [granted(), granted()], 'any', { tx });
    });
    expect(handed!.events).toEqual(await store.readStream('access-1'));
    expect(handed!.globalPosition).toBe(handed!.events[1].globalposition);
    expect(handed!.nextVersion).toBe(2);
  });

  it('writes nothing anywhere when the unit throws, or when KurrentDB refuses its write at commit', async () => {
    const { store, client } = await open();
    const message = randomUUID();
    await expect(
      store.unitOfWork(async (tx) => {
        await sqlOf(tx).query('INSERT INTO inbox (message_id) VALUES ($1)', [message]);
        await store.append('access-1', [granted()], 'no-stream', { tx });
        throw new Error('refused later in the unit');
      }),
    ).rejects.toThrow('refused later');
    expect(client.log).toHaveLength(0);
    expect(await inboxHas(message)).toBe(false);

    await expect(
      store.unitOfWork(async (tx) => {
        await sqlOf(tx).query('INSERT INTO inbox (message_id) VALUES ($1)', [message]);
        await store.append('access-1', [granted()], 'no-stream', { tx });
        await store.append('access-1', [granted({ name: 'Elsewhere' })], 'no-stream');
      }),
    ).rejects.toMatchObject({ name: 'WrongExpectedVersionError', streamId: 'access-1', actual: 1 });
    expect(await inboxHas(message)).toBe(false);
    expect(client.log.map((e) => e.type)).toEqual(['custos.entitlement.Elsewhere.v1']);
  });

  it('refuses a stale version inside the unit at once, against the version it read', async () => {
    const { store, client } = await open();
    await store.append('access-1', [granted()], 'no-stream');
    const reads = client.calls.readStream;
    await store.unitOfWork(async (tx) => {
      await store.readStream('access-1', 1, { tx });
      await expect(store.append('access-1', [granted()], 'no-stream', { tx })).rejects.toMatchObject({ expected: 'no-stream', actual: 1 });
      // Known from the read: no second round trip to check it.
      expect(client.calls.readStream).toBe(reads + 1);
      await store.append('access-1', [granted()], 1, { tx });
      await store.append('access-1', [granted()], 2, { tx });
    });
    expect((await store.readStream('access-1')).map((e) => e.streamversion)).toEqual([1, 2, 3]);
  });

  it('writes several streams of one unit in one multi-stream append, all or nothing', async () => {
    const { store, client } = await open();
    await store.unitOfWork(async (tx) => {
      await store.appendStreams(
        [
          { streamId: 'access-1', events: [granted()], expectedVersion: 'no-stream' },
          { streamId: 'access-2', events: [granted()], expectedVersion: 'no-stream' },
        ],
        { tx },
      );
    });
    expect(client.calls.multiStreamAppend).toBe(1);
    expect(client.calls.appendToStream).toBe(0);
    expect(new Set(client.log.map((e) => e.position.commit)).size).toBe(1);
  });

  it('falls back to one append per stream on a server without the multi-stream append: a later conflict leaves the earlier streams written', async () => {
    const { store, client } = await open(new InMemoryKurrentClient({ multiStreamAppend: false }));
    await store.append('access-2', [granted()], 'no-stream');
    const write = () =>
      store.appendStreams([
        { streamId: 'access-1', events: [granted()], expectedVersion: 'no-stream' },
        { streamId: 'access-2', events: [granted()], expectedVersion: 'no-stream' },
      ]);
    await expect(write()).rejects.toMatchObject({ name: 'WrongExpectedVersionError', streamId: 'access-2', actual: 1 });
    // The weaker guarantee, as documented: the first stream was written before the second refused.
    expect(await store.readStream('access-1')).toHaveLength(1);
    expect(client.calls.multiStreamAppend).toBe(1);
    await store.append('access-3', [granted()], 'no-stream');
    await store.appendStreams([
      { streamId: 'access-3', events: [granted()], expectedVersion: 1 },
      { streamId: 'access-4', events: [granted()], expectedVersion: 'no-stream' },
    ]);
    // Asked once: the server's answer is remembered.
    expect(client.calls.multiStreamAppend).toBe(1);
  });

  it('refuses a SQL transaction it did not open, which could not carry its appends', async () => {
    const { store } = await open();
    await expect(db.transaction((tx) => store.append('access-1', [granted()], 'no-stream', { tx }))).rejects.toThrow(TypeError);
    // Its own database's transactions are its units of work (the runtime's db for the context).
    await store.db.transaction((tx) => store.append('access-1', [granted()], 'no-stream', { tx }));
    expect(await store.readStream('access-1')).toHaveLength(1);
    expect(sqlDatabaseOf(store)).toBe(store.db);
  });
});

describe('a unit retried after KurrentDB stored its events but SQL did not commit', () => {
  it('finds the events its first attempt stored and does not store them twice, then commits its inbox row', async () => {
    const { store, client } = await open();
    const message = randomUUID();
    const decide = () => [granted({ causationId: message, correlationId: 'corr' }), granted({ name: 'BirthrightApplied', causationId: message, correlationId: 'corr' })];
    client.loseNextAcknowledgement = true;
    await expect(handle(store, message, 'access-1', decide)).rejects.toThrow();
    // KurrentDB has the events; the inbox row rolled back, so the message is redelivered.
    expect(client.log).toHaveLength(2);
    expect(await inboxHas(message)).toBe(false);

    // The retry decides the same events (a handler that does not look at its own earlier effects).
    await handle(store, message, 'access-1', decide);
    expect(client.log).toHaveLength(2);
    expect(await inboxHas(message)).toBe(true);
    expect((await store.readStream('access-1')).map((e) => e.causationid)).toEqual([message, message]);
  });

  it('leaves the decision to a handler that does see them: nothing new to append', async () => {
    const { store, client } = await open();
    const message = randomUUID();
    const decide = (version: number) => (version === 0 ? [granted({ causationId: message })] : []);
    client.loseNextAcknowledgement = true;
    await expect(handle(store, message, 'access-1', decide)).rejects.toThrow();
    await handle(store, message, 'access-1', decide);
    expect(client.log).toHaveLength(1);
    expect(await inboxHas(message)).toBe(true);
  });

  it('writes what the retry decides differently (another event name): a documented limit', async () => {
    const { store, client } = await open();
    const message = randomUUID();
    client.loseNextAcknowledgement = true;
    await expect(handle(store, message, 'access-1', () => [granted({ causationId: message })])).rejects.toThrow();
    await handle(store, message, 'access-1', () => [granted({ name: 'AccessExtended', causationId: message })]);
    expect(client.log.map((e) => e.type)).toEqual(['custos.entitlement.AccessGranted.v1', 'custos.entitlement.AccessExtended.v1']);
  });

  it('gives events without a cause random ids: two units appending the same decision store it twice', async () => {
    const { store } = await open();
    for (let i = 0; i < 2; i++) await store.unitOfWork(async (tx) => void (await store.append('access-1', [granted()], 'any', { tx })));
    const [a, b] = await store.readStream('access-1');
    expect(a.id).not.toBe(b.id);
  });

  it("relies on KurrentDB's own idempotence for an append outside a unit: the same ids at the same version are stored once", async () => {
    const { store, client } = await open();
    const events = [granted({ id: randomUUID() }), granted({ id: randomUUID() })];
    const first = await store.append('access-1', events, 'no-stream');
    const again = await store.append('access-1', events, 'no-stream');
    expect(client.log).toHaveLength(2);
    expect(again.events).toEqual(first.events);
    expect(again.nextVersion).toBe(2);
  });
});

describe('checkpoints beside KurrentDB', () => {
  it('keeps commit and prepare positions exactly, and moves a checkpoint only from the one it was loaded at', async () => {
    const { store } = await open();
    const big = { tx: '9223372036854775000', pos: '9223372036854774999' };
    expect(await store.checkpointOf('reader')).toBeNull();
    expect(await store.db.transaction((tx) => store.saveCheckpoint(tx, 'reader', big, { tx: '0', pos: '0' }))).toBe(true);
    expect(await store.checkpointOf('reader')).toEqual(big);
    const next = { tx: '9223372036854775100', pos: '9223372036854775100' };
    // Another process moved it since it was loaded at START: refused, and the batch is rolled back by the caller.
    expect(await store.db.transaction((tx) => store.saveCheckpoint(tx, 'reader', next, { tx: '0', pos: '0' }))).toBe(false);
    expect(await store.db.transaction((tx) => store.saveCheckpoint(tx, 'reader', next, big))).toBe(true);
    expect(await store.checkpointOf('reader')).toEqual(next);
  });

  it("commits a subscriber's SQL writes, its appends and its checkpoint together", async () => {
    const { store } = await open();
    const { events } = await store.append('access-1', [granted()], 'no-stream');
    const subscription = store.subscribe('projector', async (batch, tx) => {
      for (const event of batch) await sqlOf(tx).query('INSERT INTO inbox (message_id) VALUES ($1)', [`seen:${event.id}`]);
      await store.append(`audit-${batch[0].id}`, [granted({ name: 'Audited', causationId: batch[0].id })], 'no-stream', { tx });
    }, { streamPrefixes: ['access-'] });
    await subscription.caughtUp();
    await subscription.stop();
    expect(await inboxHas(`seen:${events[0].id}`)).toBe(true);
    expect(await store.readStream(`audit-${events[0].id}`)).toHaveLength(1);
    expect(await store.checkpointOf('projector')).toEqual(subscription.position());
  });
});

describe('the live feed', () => {
  it("wakes subscribers on another process's append at once, and comes back after the feed drops", async () => {
    const client = new InMemoryKurrentClient();
    const { store, schema } = await open(client);
    const other = await KurrentEventStore.open({ client, db, context: 'entitlement', schema, liveFeed: false });
    const seen: string[] = [];
    // A poll interval far beyond the test: only the live feed can deliver in time.
    const subscription = store.subscribe('live', async (events) => void seen.push(...events.map((e) => e.subject)), { pollIntervalMs: 600_000 });
    await subscription.caughtUp();
    expect(client.liveFeeds).toBe(1);
    await other.append('access-remote', [granted()], 'no-stream');
    await waitUntil(() => seen.includes('access-remote'));

    client.dropFeeds();
    await waitUntil(() => client.liveFeeds === 1, 5_000);
    await other.append('access-remote-2', [granted()], 'no-stream');
    await waitUntil(() => seen.includes('access-remote-2'));
    await store.close();
    expect(client.liveFeeds).toBe(0);
  });
});

async function waitUntil(predicate: () => boolean, timeoutMs = 2_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
