import type { CustosEvent, EventStore } from '@custos/platform/event-store';
import { RpcError, type MessageBus } from '../bus';

/** What the contract needs from one bus implementation and its infrastructure, for one test file. */
export interface MessageBusContractSetup {
  /** A new, independent bus instance (a new connection; a new in-process bus) over the same infrastructure. */
  createBus(): Promise<MessageBus>;
  /** The event store of `context`: opened on first use, the same instance after. */
  store(context: string): Promise<EventStore>;
  /** How many messages the transport keeps for `context`, where it keeps any (JetStream). */
  storedMessageCount?(context: string): Promise<number>;
  dispose(): Promise<void>;
}

const TEST_TIMEOUT_MS = 25_000;
const SETTLE_MS = 400;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function waitUntil(what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await sleep(25);
  }
}

/** Records deliveries per event id, the way an idempotent handler would see them. */
class Deliveries {
  readonly attempts = new Map<string, number>();
  readonly handled = new Map<string, CustosEvent>();
  readonly order: CustosEvent[] = [];

  record(event: CustosEvent): void {
    this.attempts.set(event.id, (this.attempts.get(event.id) ?? 0) + 1);
  }

  succeed(event: CustosEvent): void {
    if (!this.handled.has(event.id)) this.order.push(event);
    this.handled.set(event.id, event);
  }

  has(ids: string[]): boolean {
    return ids.every((id) => this.handled.has(id));
  }
}

/**
 * messageBusContract defines the behaviour every MessageBus must show: each appended event
 * reaches a durable consumer at least once and in stream order, failures are redelivered and
 * then dead-lettered without blocking later events, restarts lose and repeat nothing committed,
 * replicas share a durable, and request-reply carries answers, errors and timeouts.
 */
export function messageBusContract(name: string, setup: () => Promise<MessageBusContractSetup>): void {
  describe(`MessageBus contract: ${name}`, () => {
    let infra: MessageBusContractSetup;
    let buses: MessageBus[] = [];
    let contextCounter = 0;

    beforeAll(async () => {
      infra = await setup();
    }, 60_000);

    afterEach(async () => {
      await Promise.allSettled(buses.map((bus) => bus.close()));
      buses = [];
    });

    afterAll(async () => {
      await infra?.dispose();
    }, 30_000);

    const newBus = async () => {
      const bus = await infra.createBus();
      buses.push(bus);
      return bus;
    };
    // Every test gets contexts of its own: durable consumers start from the beginning of a context.
    const newContext = (base: string) => `${base}${++contextCounter}`;

    const append = async (store: EventStore, streamId: string, names: string[], data: Record<string, unknown> = {}) => {
      const result = await store.append(
        streamId,
        names.map((eventName, i) => ({ name: eventName, data: { ...data, i }, actor: 'system:contract' })),
        'any',
      );
      return result.events;
    };
    const ids = (events: CustosEvent[]) => events.map((e) => e.id);
    /** Waits for the healthy events, then expects `poison` (in stream identity-1) dead-lettered alone after 3 failed deliveries. */
    const expectDeadLetteredAlone = async (bus: MessageBus, durable: string, seen: Deliveries, poison: CustosEvent, healthy: string[]) => {
      await waitUntil('the healthy events are handled', () => seen.has(healthy));
      await waitUntil('the poison event is dead-lettered', async () => ((await bus.deadLetters?.(durable)) ?? []).length > 0);
      await sleep(SETTLE_MS);

      expect(seen.attempts.get(poison.id)).toBe(3);
      expect(seen.handled.has(poison.id)).toBe(false);
      const letters = (await bus.deadLetters?.(durable)) ?? [];
      expect(letters).toHaveLength(1);
      expect(letters[0]).toMatchObject({ durable, eventId: poison.id, deliveries: 3, event: { id: poison.id, subject: 'identity-1' } });
      expect(letters[0].error).toContain('cannot map department');
    };
    /**
     * A handler and a batch handler recording into `seen` (a batch only when it succeeds: all or
     * nothing), each batch handler call into `calls`; both throw for an event that `fails`.
     */
    const batching = (seen: Deliveries, calls: CustosEvent[][], fails: (event: CustosEvent) => boolean = () => false) => ({
      handler: async (event: CustosEvent) => {
        seen.record(event);
        if (fails(event)) throw new Error('cannot map department');
        seen.succeed(event);
      },
      batchHandler: async (events: CustosEvent[]) => {
        calls.push(events);
        // Slow enough for a backlog to build up behind it.
        await sleep(10);
        if (events.some(fails)) throw new Error('cannot map department');
        for (const event of events) {
          seen.record(event);
          seen.succeed(event);
        }
      },
    });

    it(
      'delivers every event appended in two contexts to durable consumers, exactly the appended set',
      async () => {
        const identity = await infra.store(newContext('identity'));
        const entitlement = await infra.store(newContext('entitlement'));
        const bus = await newBus();
        await bus.startRelay(identity);
        const before = await append(identity, 'identity-1', ['IdentityHired', 'IdentityMoved']);

        const seen = new Deliveries();
        const handler = async (event: CustosEvent) => {
          seen.record(event);
          seen.succeed(event);
        };
        await bus.consume({ durable: 'audit-trail', context: identity.context, handler });
        // Consuming a context whose relay is not started yet is allowed: it starts delivering later.
        await bus.consume({ durable: 'audit-trail', context: entitlement.context, handler });
        await bus.startRelay(entitlement);

        const after = [
          ...(await append(identity, 'identity-2', ['IdentityHired'])),
          ...(await append(entitlement, 'entitlement-1', ['EntitlementDefined', 'AccessGranted', 'AccessRevoked'])),
          ...(await append(identity, 'identity-1', ['IdentityLeft'])),
        ];
        const expected = ids([...before, ...after]);
        await waitUntil('every appended event is handled', () => seen.has(expected));
        await sleep(SETTLE_MS);

        expect([...seen.handled.keys()].sort()).toEqual([...expected].sort());
        const granted = after.find((e) => e.name === 'AccessGranted')!;
        expect(seen.handled.get(granted.id)).toMatchObject({
          id: granted.id,
          type: granted.type,
          subject: 'entitlement-1',
          streamversion: granted.streamversion,
          data: granted.data,
        });
      },
      TEST_TIMEOUT_MS,
    );

    it(
      'delivers only the requested event names',
      async () => {
        const identity = await infra.store(newContext('identity'));
        const bus = await newBus();
        await bus.startRelay(identity);
        const events = await append(identity, 'identity-1', ['IdentityHired', 'IdentityMoved', 'IdentityLeft', 'IdentityHired']);
        const two = new Deliveries();
        const one = new Deliveries();
        await bus.consume({
          durable: 'movers-and-leavers',
          context: identity.context,
          eventNames: ['IdentityMoved', 'IdentityLeft'],
          handler: async (e) => two.succeed(e),
        });
        await bus.consume({ durable: 'hires', context: identity.context, eventNames: ['IdentityHired'], handler: async (e) => one.succeed(e) });

        const wanted = (names: string[]) => ids(events.filter((e) => names.includes(e.name!)));
        await waitUntil('filtered events are handled', () => two.has(wanted(['IdentityMoved', 'IdentityLeft'])) && one.has(wanted(['IdentityHired'])));
        await sleep(SETTLE_MS);
        expect([...two.handled.keys()].sort()).toEqual(wanted(['IdentityMoved', 'IdentityLeft']).sort());
        expect([...one.handled.keys()].sort()).toEqual(wanted(['IdentityHired']).sort());
      },
      TEST_TIMEOUT_MS,
    );

    it(
      'delivers the events of one stream in stream-version order',
      async () => {
        const identity = await infra.store(newContext('identity'));
        const bus = await newBus();
        await bus.startRelay(identity);
        const seen = new Deliveries();
        await bus.consume({ durable: 'ordered', context: identity.context, handler: async (e) => seen.succeed(e) });
        const appended: CustosEvent[] = [];
        for (let round = 0; round < 4; round++) {
          appended.push(...(await append(identity, 'identity-a', ['IdentityMoved', 'IdentityMoved', 'IdentityMoved'], { round })));
          appended.push(...(await append(identity, 'identity-b', ['IdentityMoved'], { round })));
        }
        await waitUntil('all events are handled', () => seen.has(ids(appended)));

        const versionsOf = (stream: string) => seen.order.filter((e) => e.subject === stream).map((e) => e.streamversion);
        expect(versionsOf('identity-a')).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
        expect(versionsOf('identity-b')).toEqual([1, 2, 3, 4]);
      },
      TEST_TIMEOUT_MS,
    );

    it(
      'redelivers an event whose handler threw, and loses no other event',
      async () => {
        const identity = await infra.store(newContext('identity'));
        const bus = await newBus();
        await bus.startRelay(identity);
        const events = await append(identity, 'identity-1', ['IdentityHired', 'IdentityMoved', 'IdentityMoved', 'IdentityLeft']);
        const flaky = events[1].id;
        const seen = new Deliveries();
        await bus.consume({
          durable: 'flaky',
          context: identity.context,
          maxDeliver: 5,
          retryDelayMs: 50,
          handler: async (event) => {
            seen.record(event);
            if (event.id === flaky && seen.attempts.get(flaky)! <= 2) throw new Error('directory unavailable');
            seen.succeed(event);
          },
        });
        await waitUntil('every event is handled', () => seen.has(ids(events)));
        await sleep(SETTLE_MS);

        expect(seen.attempts.get(flaky)).toBe(3);
        expect([...seen.handled.keys()].sort()).toEqual(ids(events).sort());
        expect(await bus.deadLetters?.('flaky')).toEqual([]);
      },
      TEST_TIMEOUT_MS,
    );

    it(
      'dead-letters an event after maxDeliver failed deliveries, and later events still arrive',
      async () => {
        const identity = await infra.store(newContext('identity'));
        const bus = await newBus();
        await bus.startRelay(identity);
        const first = await append(identity, 'identity-1', ['IdentityHired', 'IdentityMoved', 'IdentityLeft']);
        const poison = first[1];
        const seen = new Deliveries();
        await bus.consume({
          durable: 'poisoned',
          context: identity.context,
          maxDeliver: 3,
          retryDelayMs: 50,
          handler: async (event) => {
            seen.record(event);
            if (event.id === poison.id) throw new Error('cannot map department');
            seen.succeed(event);
          },
        });
        const later = await append(identity, 'identity-2', ['IdentityHired']);
        const healthy = ids([...first, ...later]).filter((id) => id !== poison.id);

        await expectDeadLetteredAlone(bus, 'poisoned', seen, poison, healthy);
      },
      TEST_TIMEOUT_MS,
    );

    it(
      'hands a backlog to the batch handler several events at a time, each once and in order, and a lone event at once',
      async () => {
        const identity = await infra.store(newContext('identity'));
        const bus = await newBus();
        await bus.startRelay(identity);
        const seen = new Deliveries();
        const calls: CustosEvent[][] = [];
        await bus.consume({ durable: 'batched', context: identity.context, ...batching(seen, calls) });
        const appended: CustosEvent[] = [];
        for (let i = 0; i < 10; i++) appended.push(...(await append(identity, 'identity-1', Array<string>(20).fill('IdentityMoved'))));
        await waitUntil('the backlog is handled', () => seen.has(ids(appended)));

        expect(ids(seen.order)).toEqual(ids(appended));
        expect(Math.max(...calls.map((events) => events.length))).toBeGreaterThan(1);
        const started = Date.now();
        const lone = await append(identity, 'identity-2', ['IdentityHired']);
        await waitUntil('the lone event is handled', () => seen.has(ids(lone)));
        expect(Date.now() - started).toBeLessThan(1_000);
        await sleep(SETTLE_MS);
        expect([...seen.attempts.keys()]).toEqual(ids([...appended, ...lone]));
        expect([...seen.attempts.values()].every((n) => n === 1)).toBe(true);
      },
      TEST_TIMEOUT_MS,
    );

    it(
      'falls back to the handler when a batch fails, so that only the bad event is dead-lettered',
      async () => {
        const identity = await infra.store(newContext('identity'));
        const bus = await newBus();
        const relay = await bus.startRelay(identity);
        // In the stream before the consumer starts, so that they come as one batch.
        const first = await append(identity, 'identity-1', ['IdentityHired', 'IdentityMoved', 'IdentityMoved', 'IdentityMoved', 'IdentityLeft']);
        await relay.caughtUp();
        const poison = first[2];
        const seen = new Deliveries();
        const calls: CustosEvent[][] = [];
        await bus.consume({
          durable: 'poisoned-batch',
          context: identity.context,
          maxDeliver: 3,
          retryDelayMs: 50,
          ...batching(seen, calls, (event) => event.id === poison.id),
        });
        const later = await append(identity, 'identity-2', ['IdentityHired']);
        const healthy = ids([...first, ...later]).filter((id) => id !== poison.id);

        await expectDeadLetteredAlone(bus, 'poisoned-batch', seen, poison, healthy);

        expect(calls.some((events) => events.length > 1 && ids(events).includes(poison.id))).toBe(true);
        expect(healthy.map((id) => seen.attempts.get(id))).toEqual(healthy.map(() => 1));
      },
      TEST_TIMEOUT_MS,
    );

    it(
      'gives the batch handler no more than maxBatch events at a time',
      async () => {
        const identity = await infra.store(newContext('identity'));
        const bus = await newBus();
        const relay = await bus.startRelay(identity);
        const events = await append(identity, 'identity-1', Array<string>(23).fill('IdentityMoved'));
        await relay.caughtUp();
        const seen = new Deliveries();
        const calls: CustosEvent[][] = [];
        await bus.consume({ durable: 'small-batches', context: identity.context, maxBatch: 5, ...batching(seen, calls) });
        await waitUntil('every event is handled', () => seen.has(ids(events)));

        expect(Math.max(...calls.map((batch) => batch.length))).toBe(5);
        expect(ids(seen.order)).toEqual(ids(events));
      },
      TEST_TIMEOUT_MS,
    );

    it(
      'resumes after the relay and the consumer restart, without losing or re-handling committed work',
      async () => {
        const identity = await infra.store(newContext('identity'));
        const seen = new Deliveries();
        const handler = async (event: CustosEvent) => {
          seen.record(event);
          seen.succeed(event);
        };

        const first = await newBus();
        const relay = await first.startRelay(identity);
        const consumer = await first.consume({ durable: 'restarted', context: identity.context, handler });
        const before = await append(identity, 'identity-1', ['IdentityHired', 'IdentityMoved', 'IdentityMoved', 'IdentityLeft']);
        await waitUntil('the first events are handled', () => seen.has(ids(before)));
        await consumer.stop();
        await relay.stop();
        await first.close();

        const whileDown = await append(identity, 'identity-2', ['IdentityHired', 'IdentityMoved', 'IdentityLeft']);
        const second = await newBus();
        const secondRelay = await second.startRelay(identity);
        await secondRelay.caughtUp();
        if (infra.storedMessageCount) expect(await infra.storedMessageCount(identity.context)).toBe(before.length + whileDown.length);
        await second.consume({ durable: 'restarted', context: identity.context, handler });
        const afterRestart = await append(identity, 'identity-3', ['IdentityHired']);

        const all = ids([...before, ...whileDown, ...afterRestart]);
        await waitUntil('every event is handled', () => seen.has(all));
        await sleep(SETTLE_MS);
        expect([...seen.attempts.keys()].sort()).toEqual([...all].sort());
        expect([...seen.attempts.values()].every((n) => n === 1)).toBe(true);
        if (infra.storedMessageCount) expect(await infra.storedMessageCount(identity.context)).toBe(all.length);
      },
      TEST_TIMEOUT_MS,
    );

    it(
      'a background consumer (lingerMs) lets a lone event wait the linger, and takes what is appended meanwhile in the same batch',
      async () => {
        const identity = await infra.store(newContext('identity'));
        const bus = await newBus();
        const seen = new Deliveries();
        const calls: CustosEvent[][] = [];
        const handledAt = new Map<string, number>();
        await bus.consume({
          durable: 'background',
          context: identity.context,
          lingerMs: 300,
          handler: async (event) => {
            handledAt.set(event.id, Date.now());
            seen.record(event);
            seen.succeed(event);
          },
          batchHandler: async (events) => {
            calls.push(events);
            for (const event of events) {
              handledAt.set(event.id, Date.now());
              seen.record(event);
              seen.succeed(event);
            }
          },
        });
        await bus.startRelay(identity);
        // Let the consumer settle into idle first: the first event then meets an idle consumer.
        await sleep(SETTLE_MS);
        const appendedAt = Date.now();
        const first = await append(identity, 'identity-1', ['IdentityHired']);
        await sleep(50);
        const second = await append(identity, 'identity-2', ['IdentityHired']);
        await waitUntil('both events are handled', () => seen.has(ids([...first, ...second])));
        // Not at once: the linger; and the second, appended within it, in the same batch.
        expect(handledAt.get(first[0].id)! - appendedAt).toBeGreaterThanOrEqual(250);
        expect(calls.filter((batch) => batch.some((e) => e.id === first[0].id))[0].map((e) => e.id)).toEqual(ids([...first, ...second]));
      },
      TEST_TIMEOUT_MS,
    );

    it(
      'shares a durable between two consumers on two bus instances: each event is handled by exactly one',
      async () => {
        const identity = await infra.store(newContext('identity'));
        const busA = await newBus();
        const busB = await newBus();
        const byA = new Deliveries();
        const byB = new Deliveries();
        const slowly = (seen: Deliveries) => async (event: CustosEvent) => {
          seen.record(event);
          await sleep(5);
          seen.succeed(event);
        };
        await busA.consume({ durable: 'shared', context: identity.context, handler: slowly(byA) });
        await busB.consume({ durable: 'shared', context: identity.context, handler: slowly(byB) });
        await busA.startRelay(identity);
        const events: CustosEvent[] = [];
        for (let i = 0; i < 8; i++) events.push(...(await append(identity, `identity-${i}`, ['IdentityHired', 'IdentityMoved', 'IdentityMoved', 'IdentityLeft', 'IdentityHired'])));

        await waitUntil('every event is handled by one of them', () => events.every((e) => byA.handled.has(e.id) || byB.handled.has(e.id)));
        await sleep(SETTLE_MS);
        for (const event of events) expect((byA.attempts.get(event.id) ?? 0) + (byB.attempts.get(event.id) ?? 0)).toBe(1);
        expect(byA.handled.size).toBeGreaterThan(0);
        expect(byB.handled.size).toBeGreaterThan(0);
      },
      TEST_TIMEOUT_MS,
    );

    it(
      'answers a request, and returns a handler error as RpcError with its status',
      async () => {
        const server = await newBus();
        const client = await newBus();
        const ctx = newContext('entitlement');
        await server.serve(`rpc.${ctx}.check`, async (payload) => {
          const { identityId } = payload as { identityId: string };
          return { allowed: identityId === 'id-1', checkedFor: identityId, error: 'a field named error is still a result' };
        });
        await server.serve(`rpc.${ctx}.grant`, async () => {
          throw Object.assign(new Error('separation of duties forbids it'), { status: 409, details: { policy: 'sod-1' } });
        });
        await server.serve(`rpc.${ctx}.crash`, async () => {
          throw new Error('database gone');
        });

        await expect(client.request(`rpc.${ctx}.check`, { identityId: 'id-1' })).resolves.toEqual({
          allowed: true,
          checkedFor: 'id-1',
          error: 'a field named error is still a result',
        });
        const refused = await client.request(`rpc.${ctx}.grant`, {}).catch((e: unknown) => e);
        expect(refused).toBeInstanceOf(RpcError);
        expect(refused).toMatchObject({ status: 409, message: 'separation of duties forbids it', details: { policy: 'sod-1' }, subject: `rpc.${ctx}.grant` });
        await expect(client.request(`rpc.${ctx}.crash`, {})).rejects.toMatchObject({ status: 500, message: 'database gone' });
        await expect(client.request(`rpc.${ctx}.nobody`, {}, { timeoutMs: 2_000 })).rejects.toMatchObject({ name: 'RpcError', status: 503 });
      },
      TEST_TIMEOUT_MS,
    );

    it(
      'lets replicas of a server share requests: each request is answered once',
      async () => {
        const ctx = newContext('entitlement');
        const calls: string[] = [];
        for (const replica of ['a', 'b']) {
          const bus = await newBus();
          await bus.serve(`rpc.${ctx}.check`, async (payload) => {
            calls.push(replica);
            return { replica, n: (payload as { n: number }).n };
          });
        }
        const client = await newBus();
        const answers = await Promise.all(Array.from({ length: 20 }, (_, n) => client.request<{ n: number }>(`rpc.${ctx}.check`, { n })));
        expect(answers.map((a) => a.n)).toEqual(Array.from({ length: 20 }, (_, n) => n));
        expect(calls).toHaveLength(20);
      },
      TEST_TIMEOUT_MS,
    );

    it(
      'fails a request that gets no answer in time with RpcError 504',
      async () => {
        const bus = await newBus();
        const ctx = newContext('entitlement');
        await bus.serve(`rpc.${ctx}.slow`, async () => {
          await sleep(1_500);
          return 'too late';
        });
        const started = Date.now();
        const error = await bus.request(`rpc.${ctx}.slow`, {}, { timeoutMs: 200 }).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(RpcError);
        expect(error).toMatchObject({ status: 504 });
        expect(Date.now() - started).toBeLessThan(1_200);
      },
      TEST_TIMEOUT_MS,
    );
  });
}
