import { Module, type INestMicroservice } from '@nestjs/common';
import { IdentitiesView, IdentityEmailResolver, resolveEmailAmong } from '@custos/identity/application';
import { identityStreamId, sampleIdentitySnapshot, type IdentitySnapshot } from '@custos/identity/contracts';
import { createPgliteDatabase, SqlEventStore, type SqlDatabase } from '@custos/platform/event-store';
import { BusIdentityResolver, RESOLVE_EMAIL_RPC } from '@custos/platform/http';
import { InProcessBus, RpcError, startBusMicroservice } from '@custos/platform/messaging';
import { ResolveEmailRpc } from './resolve-email.rpc';

describe('resolveEmailAmong', () => {
  it.each([
    ['nobody', [], { identityId: null, reason: 'unknown' }],
    ['one active identity', [{ identityId: 'a', status: 'active' }], { identityId: 'a' }],
    ['a leaver', [{ identityId: 'a', status: 'terminated' }], { identityId: null, reason: 'inactive' }],
    ['a joiner not started yet', [{ identityId: 'a', status: 'pending' }], { identityId: null, reason: 'inactive' }],
    ['an address handed on after its holder left', [{ identityId: 'new', status: 'active' }, { identityId: 'old', status: 'terminated' }], { identityId: 'new' }],
    ['two active identities', [{ identityId: 'a', status: 'active' }, { identityId: 'b', status: 'active' }], { identityId: null, reason: 'ambiguous' }],
    ['an active identity and a joiner with the same address', [{ identityId: 'a', status: 'active' }, { identityId: 'b', status: 'pending' }], { identityId: null, reason: 'ambiguous' }],
  ] as const)('%s', (_what, holders, expected) => {
    expect(resolveEmailAmong(holders)).toEqual(expected);
  });
});

/** rpc.identity.resolve-email as the identity service serves it: the controller on the bus transport, over the identities read model. */
describe('rpc.identity.resolve-email', () => {
  let db: SqlDatabase;
  let store: SqlEventStore;
  let view: IdentitiesView;
  let bus: InProcessBus;
  let service: INestMicroservice;
  const versions = new Map<string, number>();
  const record = async (name: string, identity: IdentitySnapshot) => {
    const version = versions.get(identity.identityId) ?? 0;
    await store.append(identityStreamId(identity.identityId), [{ name, data: { identityId: identity.identityId, identity }, actor: 'hr:workday' }], version === 0 ? 'no-stream' : version);
    versions.set(identity.identityId, version + 1);
  };
  const person = (id: string, email: string, status: IdentitySnapshot['status'] = 'active') => ({ ...sampleIdentitySnapshot(id, 'Engineering', status), email });
  const ask = (payload: unknown) => bus.request(RESOLVE_EMAIL_RPC, payload);

  beforeAll(async () => {
    db = await createPgliteDatabase();
    store = await SqlEventStore.open(db, { context: 'identity', schema: 'identity' });
    view = new IdentitiesView(db, store, 'identity');
    await view.migrate();
    view.start((error) => {
      throw error;
    });
    await record('IdentityHired', person('ada', 'Ada.Lovelace@Example.com'));
    await record('IdentityHired', person('bob', 'bob@example.com'));
    await record('IdentityTerminated', person('bob', 'bob@example.com', 'terminated'));
    await record('IdentityHired', person('twin-1', 'team@example.com'));
    await record('IdentityHired', person('twin-2', 'TEAM@example.com'));
    await record('IdentityHired', person('cy', 'cy@example.com', 'pending'));
    await view.caughtUp();
    bus = new InProcessBus();
    @Module({ controllers: [ResolveEmailRpc], providers: [{ provide: IdentityEmailResolver, useValue: new IdentityEmailResolver(view) }] })
    class ResolveModule {}
    service = await startBusMicroservice(ResolveModule, bus);
  }, 60_000);

  afterAll(async () => {
    await service?.close();
    await bus?.close();
    await view?.stop();
    await store?.close();
    await db?.close();
  });

  it('answers the active identity with the address, matched without regard to case', async () => {
    expect(await ask({ email: 'ada.lovelace@example.com' })).toEqual({ identityId: 'ada' });
    expect(await new BusIdentityResolver(bus).resolveEmail(' ADA.LOVELACE@example.COM')).toEqual({ identityId: 'ada' });
  });

  it('names nobody for an unknown address, a leaver, a joiner not started yet, or an address two identities share', async () => {
    expect(await ask({ email: 'eve@example.com' })).toEqual({ identityId: null, reason: 'unknown' });
    expect(await ask({ email: 'bob@example.com' })).toEqual({ identityId: null, reason: 'inactive' });
    expect(await ask({ email: 'cy@example.com' })).toEqual({ identityId: null, reason: 'inactive' });
    expect(await ask({ email: 'team@example.com' })).toEqual({ identityId: null, reason: 'ambiguous' });
  });

  it('stops naming an identity once it has left, and names the new holder of an address handed on', async () => {
    await record('IdentityTerminated', person('ada', 'Ada.Lovelace@Example.com', 'terminated'));
    await view.caughtUp();
    expect(await ask({ email: 'ada.lovelace@example.com' })).toEqual({ identityId: null, reason: 'inactive' });
    await record('IdentityHired', person('ada-2', 'ada.lovelace@example.com'));
    await view.caughtUp();
    expect(await ask({ email: 'ada.lovelace@example.com' })).toEqual({ identityId: 'ada-2' });
  });

  it('finds the one current holder of an address however many leavers had it before (it reads three rows, those that have not left first)', async () => {
    for (const id of ['old-1', 'old-2', 'old-3']) {
      await record('IdentityHired', person(id, 'desk@example.com'));
      await record('IdentityTerminated', person(id, 'desk@example.com', 'terminated'));
    }
    await record('IdentityHired', person('zz-current', 'desk@example.com'));
    await view.caughtUp();
    expect(await ask({ email: 'desk@example.com' })).toEqual({ identityId: 'zz-current' });
    await record('IdentityHired', person('zz-second', 'desk@example.com'));
    await view.caughtUp();
    expect(await ask({ email: 'desk@example.com' })).toEqual({ identityId: null, reason: 'ambiguous' });
  });

  it.each([
    ['no payload', null],
    ['a string', 'ada@example.com'],
    ['an array', [{ email: 'ada@example.com' }]],
    ['no email', {}],
    ['another key beside it', { email: 'ada@example.com', identityId: 'ada' }],
    ['a number', { email: 7 }],
    ['not an address', { email: "' OR 1=1 --" }],
    ['an address too long', { email: `${'a'.repeat(400)}@example.com` }],
    ['a polluting key', JSON.parse('{"__proto__": {"email": "ada@example.com"}}')],
  ])('refuses %s with status 400', async (_what, payload) => {
    const refusal = await ask(payload).catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(RpcError);
    expect((refusal as RpcError).status).toBe(400);
    expect(({} as Record<string, unknown>)['email']).toBeUndefined();
  });
});
