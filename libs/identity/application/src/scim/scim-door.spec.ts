import { createPgDatabase, SqlDatabase, SqlEventStore } from '@custos/platform/event-store';
import { InProcessBus } from '@custos/platform/messaging';
import { ContextRuntime, createLogger, DurableScheduler, migrateContext, readConfig } from '@custos/platform/runtime';
import { createTestDatabase } from '@custos/platform/testing';
import { identityStreamId } from '@custos/identity/contracts';
import { EmployeeDirectory } from '../employee-directory';
import { HrIntake } from '../hr-intake';
import { IdentitiesView } from '../read-models/identities/identities-view';
import { ScimError } from './scim-error';
import { ScimGroups } from './scim-groups';
import { SCIM } from './scim-schemas';
import { ScimUsers, type ScimRequestContext } from './scim-users';

const E = SCIM.enterprise;
const context: ScimRequestContext = {};

const user = (userName: string, over: Record<string, unknown> = {}) => ({
  schemas: [SCIM.user, E],
  userName,
  name: { givenName: 'Ada', familyName: 'Lovelace' },
  emails: [{ value: userName, type: 'work' }],
  ...over,
});

const patchOp = (...Operations: object[]) => ({ schemas: [SCIM.patchOp], Operations });

async function refusal(work: Promise<unknown>): Promise<ScimError> {
  try {
    await work;
  } catch (error) {
    if (error instanceof ScimError) return error;
    throw error;
  }
  throw new Error('expected a ScimError');
}

/** The SCIM door's Users and Groups against a real PostgreSQL: the identity streams, the userName index and the Groups move together. */
describe('SCIM door', () => {
  let db: SqlDatabase;
  let drop: () => Promise<void>;
  let runtime: ContextRuntime;
  let view: IdentitiesView;
  let intake: HrIntake;
  let users: ScimUsers;
  let groups: ScimGroups;
  const streamOf = async (identityId: string) => (await runtime.store.readStream(identityStreamId(identityId))).map((e) => e.name);

  beforeEach(async () => {
    const database = await createTestDatabase('custos_scim');
    drop = database.drop;
    db = createPgDatabase(database.url);
    const store = await SqlEventStore.open(db, { context: 'identity', schema: 'identity' });
    runtime = { context: 'identity', db, store, bus: new InProcessBus(), clock: () => new Date(), logger: createLogger(readConfig({}), 'test'), publicUrl: 'https://custos.example/' };
    const directory = new EmployeeDirectory(db, 'identity');
    const scheduler = new DurableScheduler(db, 'identity', runtime.clock);
    intake = new HrIntake(runtime, directory, scheduler);
    view = new IdentitiesView(db, store, 'identity');
    users = new ScimUsers(runtime, intake, directory, view);
    groups = new ScimGroups(runtime, directory);
    await migrateContext(db, 'identity', [(x) => directory.migrate(x), (x) => intake.migrate(x), (x) => scheduler.migrate(x), (x) => view.migrate(x), (x) => users.migrate(x)]);
    view.start((error) => {
      throw error;
    });
  });

  afterEach(async () => {
    await view.stop();
    await runtime.store.close();
    await runtime.bus.close();
    await db.close();
    await drop();
  });

  it('lets exactly one of ten concurrent creates of one userName (in different cases) win; the others get 409 uniqueness', async () => {
    const outcomes = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => users.create(user(i % 2 ? 'ADA@example.com' : 'ada@example.com'), context)));
    const created = outcomes.filter((o) => o.status === 'fulfilled');
    const refused = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
    expect(created).toHaveLength(1);
    expect(refused.map((o) => [(o.reason as ScimError).httpStatus, (o.reason as ScimError).scimType])).toEqual(Array(9).fill([409, 'uniqueness']));
    const listed = await users.list({ filter: 'userName eq "Ada@Example.com"' });
    expect(listed.totalResults).toBe(1);
    const { rows } = await db.query('SELECT 1 FROM identity.identities');
    expect(rows).toHaveLength(1);
  });

  it('refuses a stale If-Match with 412 and writes nothing', async () => {
    const created = await users.create(user('ada@example.com', { [E]: { department: 'Engineering' } }), context);
    const id = created.resource.id as string;
    expect(created.etag).toBe('W/"1"');
    const moved = await users.patch(id, patchOp({ op: 'replace', path: `${E}:department`, value: 'Research' }), { ...context, ifMatch: 'W/"1"' });
    expect(moved.etag).toBe('W/"2"');
    const stale = await refusal(users.patch(id, patchOp({ op: 'replace', path: 'title', value: 'Countess' }), { ...context, ifMatch: 'W/"1"' }));
    expect(stale.httpStatus).toBe(412);
    expect(await streamOf(id)).toEqual(['IdentityHired', 'IdentityMoved']);
  });

  it('makes a create with the employeeNumber of a deleted User a rehire of that identity', async () => {
    const first = await users.create(user('ada@example.com', { [E]: { employeeNumber: 'E1' } }), context);
    const id = first.resource.id as string;
    await users.delete(id, context);
    expect((await refusal(users.get(id, context))).httpStatus).toBe(404);
    const back = await users.create(user('ada.lovelace@example.com', { [E]: { employeeNumber: 'E1' } }), context);
    expect(back.resource.id).toBe(id);
    expect(back.resource.userName).toBe('ada.lovelace@example.com');
    expect(await streamOf(id)).toEqual(['IdentityHired', 'IdentityTerminated', 'IdentityRehired']);
    const other = await refusal(users.create(user('someone@example.com', { [E]: { employeeNumber: 'E1' } }), context));
    expect([other.httpStatus, other.scimType]).toEqual([409, 'uniqueness']);
  });

  it('refuses a userName that is the email of an identity from another door', async () => {
    await intake.receive({
      eventId: 'wd-1',
      system: 'workday',
      type: 'joiner',
      effectiveAt: '2026-01-01T00:00:00Z',
      channel: 'webhook',
      employee: { employeeId: 'W1', givenName: 'Grace', familyName: 'Hopper', email: 'grace@example.com', employmentType: 'employee' },
    });
    const taken = await refusal(users.create(user('Grace@Example.com'), context));
    expect([taken.httpStatus, taken.scimType]).toEqual([409, 'uniqueness']);
    const listed = await users.list({ filter: 'userName eq "grace@example.com"' });
    expect(listed.totalResults).toBe(1);
  });

  it('assigns Group names to members through their streams, and takes a deleted User out of its Groups', async () => {
    const ada = (await users.create(user('ada@example.com'), context)).resource.id as string;
    const bob = (await users.create(user('bob@example.com', { name: { givenName: 'Bob', familyName: 'B' } }), context)).resource.id as string;
    const eng = await groups.create({ schemas: [SCIM.group], displayName: 'eng', members: [{ value: ada }] }, context);
    const groupId = eng.resource.id as string;
    await groups.patch(groupId, patchOp({ op: 'add', path: 'members', value: [{ value: bob }] }, { op: 'replace', path: 'displayName', value: 'engineering' }), context);
    await view.caughtUp();
    expect((await view.get(ada))?.groups).toEqual(['engineering']);
    expect((await view.get(bob))?.groups).toEqual(['engineering']);
    expect(await streamOf(ada)).toEqual(['IdentityHired', 'GroupsAssigned', 'GroupsAssigned']);
    await users.delete(bob, context);
    expect((await groups.get(groupId, context)).resource.members).toEqual([expect.objectContaining({ value: ada })]);
    const unknown = await refusal(groups.patch(groupId, patchOp({ op: 'add', path: 'members', value: [{ value: 'nobody' }] }), context));
    expect(unknown.scimType).toBe('invalidValue');
    await groups.delete(groupId, context);
    await view.caughtUp();
    expect((await view.get(ada))?.groups).toEqual([]);
  });

  it('refuses a User whose unknown attributes are too deep, too many or too big (400 invalidValue), writes nothing, and still lists', async () => {
    let deep: unknown = 'bottom';
    for (let i = 0; i < 2000; i++) deep = { deeper: deep };
    const bodies = [
      user('deep@example.com', { custom: deep }),
      user('many@example.com', Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`custom${i}`, i]))),
      user('big@example.com', { custom: 'x'.repeat(20_000) }),
    ];
    for (const body of bodies) {
      const refused = await refusal(users.create(body, context));
      expect([refused.httpStatus, refused.scimType]).toEqual([400, 'invalidValue']);
    }
    const ada = (await users.create(user('ada@example.com'), context)).resource.id as string;
    const patched = await refusal(users.patch(ada, patchOp({ op: 'add', path: 'custom', value: deep }), context));
    expect([patched.httpStatus, patched.scimType]).toEqual([400, 'invalidValue']);
    const { rows } = await db.query('SELECT identity_id FROM identity.identities');
    expect(rows.map((r) => r.identity_id)).toEqual([ada]);
    expect(await streamOf(ada)).toEqual(['IdentityHired']);
    expect((await users.list({})).totalResults).toBe(1);
  });

  it('refuses prototype pollution through POST, PUT, PATCH, filters and Groups (400) and leaves Object.prototype alone', async () => {
    const before = Object.getOwnPropertyNames(Object.prototype).sort();
    const ada = (await users.create(user('ada@example.com'), context)).resource.id as string;
    const group = (await groups.create({ schemas: [SCIM.group], displayName: 'eng', members: [] }, context)).resource.id as string;
    const attempts: [string, () => Promise<unknown>, string][] = [
      ['POST __proto__', () => users.create(user('eve@example.com', JSON.parse('{"__proto__": {"roles": ["custos:admin"]}}')), context), 'invalidValue'],
      ['PUT constructor', () => users.replace(ada, user('ada@example.com', { custom: { constructor: { prototype: { roles: ['custos:admin'] } } } }), context), 'invalidValue'],
      ['PATCH path', () => users.patch(ada, patchOp({ op: 'add', path: '__proto__.roles', value: ['custos:admin'] }), context), 'invalidPath'],
      ['PATCH path through constructor', () => users.patch(ada, patchOp({ op: 'add', path: 'constructor.prototype.roles', value: ['custos:admin'] }), context), 'invalidPath'],
      ['PATCH sub-path', () => users.patch(ada, patchOp({ op: 'replace', path: 'name.__proto__.roles', value: ['custos:admin'] }), context), 'invalidPath'],
      ['PATCH no-path value', () => users.patch(ada, patchOp({ op: 'add', value: JSON.parse('{"__proto__": {"roles": ["custos:admin"]}}') }), context), 'invalidValue'],
      ['a filter', () => users.list({ filter: '__proto__.roles pr' }), 'invalidPath'],
      ['attributes', () => users.get(ada, { attributes: '__proto__' }), 'invalidPath'],
      ['POST Group', () => groups.create(JSON.parse(`{"schemas": ["${SCIM.group}"], "displayName": "x", "__proto__": {"roles": ["custos:admin"]}}`), context), 'invalidValue'],
      ['PATCH Group path', () => groups.patch(group, patchOp({ op: 'add', path: '__proto__.roles', value: ['custos:admin'] }), context), 'invalidPath'],
      ['PATCH Group members value', () => groups.patch(group, patchOp({ op: 'add', path: 'members', value: [JSON.parse(`{"value": "${ada}", "__proto__": {"roles": 1}}`)] }), context), 'invalidValue'],
    ];
    for (const [what, attempt, scimType] of attempts) {
      const refused = await refusal(attempt());
      expect([what, refused.httpStatus, refused.scimType]).toEqual([what, 400, scimType]);
    }
    expect(({} as Record<string, unknown>).roles).toBeUndefined();
    expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(before);
    expect(await streamOf(ada)).toEqual(['IdentityHired']);
  });

  it('keeps a User whose email is not an address, and can still end it', async () => {
    const odd = await users.create(user('ada', { emails: [{ value: 'ada at example', type: 'work' }] }), context);
    const id = odd.resource.id as string;
    await view.caughtUp();
    expect((await view.get(id))?.email).toBe('ada at example');
    expect(odd.resource.emails).toEqual([{ value: 'ada at example', type: 'work' }]);
    await users.patch(id, patchOp({ op: 'replace', path: 'active', value: false }), context);
    await view.caughtUp();
    expect((await view.get(id))?.status).toBe('terminated');
  });

  it('links Users and Groups from the configured public URL', async () => {
    const ada = await users.create(user('ada@example.com'), context);
    const bob = await users.create(user('bob@example.com', { name: { givenName: 'Bob', familyName: 'B' }, [E]: { manager: { value: ada.resource.id } } }), context);
    expect(ada.location).toBe(`https://custos.example/scim/v2/Users/${ada.resource.id}`);
    expect((bob.resource[E] as any).manager.$ref).toBe(`https://custos.example/scim/v2/Users/${ada.resource.id}`);
    const eng = await groups.create({ schemas: [SCIM.group], displayName: 'eng', members: [{ value: bob.resource.id }] }, context);
    expect(eng.location).toBe(`https://custos.example/scim/v2/Groups/${eng.resource.id}`);
    expect((eng.resource.members as any[])[0].$ref).toBe(`https://custos.example/scim/v2/Users/${bob.resource.id}`);
  });

  it("accepts members' display and answers each member's display name", async () => {
    const ada = (await users.create(user('ada@example.com'), context)).resource.id as string;
    const bob = (await users.create(user('bob@example.com', { name: { givenName: 'Bob', familyName: 'Babbage' }, displayName: 'Bobby B' }), context)).resource.id as string;
    await view.caughtUp();
    const eng = await groups.create({ schemas: [SCIM.group], displayName: 'eng', members: [{ value: ada, display: 'Ada L.' }] }, context);
    expect(eng.resource.members).toEqual([expect.objectContaining({ value: ada, display: 'Ada Lovelace' })]);
    const patched = await groups.patch(eng.resource.id as string, patchOp({ op: 'add', path: 'members', value: [{ Value: bob, Display: 'Bob' }] }), context);
    expect(patched.resource.members).toEqual(
      expect.arrayContaining([expect.objectContaining({ value: ada, display: 'Ada Lovelace' }), expect.objectContaining({ value: bob, display: 'Bobby B' })]),
    );
    const listed = await groups.list({});
    expect((listed.Resources as any[])[0].members).toHaveLength(2);
    const removed = await groups.patch(eng.resource.id as string, patchOp({ op: 'remove', path: 'members', value: [{ value: bob, display: 'Bobby B' }] }), context);
    expect((removed.resource.members as any[]).map((m) => m.value)).toEqual([ada]);
  });
});
