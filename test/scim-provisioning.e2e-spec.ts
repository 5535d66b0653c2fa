import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { eventually } from '@custos/platform/testing';
import { CustosClient } from './support/client';
import { RunningProcess, startProcess } from './support/processes';

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const E = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error';
const LIST = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';

/**
 * An identity provider provisions Custos over SCIM 2.0 (as Okta and Azure AD do), against
 * `npm start` (embedded store and bus, one process): discovery, users as joiners, movers and
 * leavers, filters, ETags, groups that birthright rules match, and SCIM errors.
 */
describe('SCIM provisioning from an identity provider', () => {
  const run = randomUUID().slice(0, 8);
  const domain = `${run}.example`;
  /** Where an ingress publishes Custos: the only base of SCIM links, whatever Host a request names. */
  const PUBLIC = `https://custos-${run}.example`;
  let custos: RunningProcess;
  let dataDir: string;
  let client: CustosClient;
  let idp: string;
  let admin: string;
  const ids: Record<'ada' | 'bob' | 'cyd', string> = { ada: '', bob: '', cyd: '' };

  const scim = (method: string, url: string, body?: unknown, headers: Record<string, string> = {}) =>
    client.call(method, `/scim/v2${url}`, { token: idp, body, headers: { ...(body !== undefined ? { 'content-type': 'application/scim+json' } : {}), ...headers } });
  const list = (query: Record<string, string>) => scim('GET', `/Users?${new URLSearchParams(query)}`);
  const identity = (id: string, accept: (body: any) => boolean, what: string) =>
    eventually(
      async () => {
        const r = await client.call('GET', `/identities/${id}`, { token: admin });
        return r.status === 200 && accept(r.body) ? r.body : undefined;
      },
      { what, timeoutMs: 15_000 },
    );
  const user = (name: string, given: string, over: Record<string, unknown> = {}) => ({
    schemas: [USER, E],
    userName: `${name}@${domain}`,
    name: { givenName: given, familyName: 'Tester' },
    emails: [{ value: `${name}@${domain}`, type: 'work', primary: true }],
    active: true,
    ...over,
  });
  const expectScimError = (answer: { status: number; body: any; headers: Headers }, status: number, scimType?: string) => {
    expect(answer.status).toBe(status);
    expect(answer.headers.get('content-type')).toContain('application/scim+json');
    expect(answer.body).toMatchObject({ schemas: [ERROR], status: String(status), ...(scimType ? { scimType } : {}) });
  };

  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'custos-scim-'));
    custos = await startProcess('custos', 'apps/custos/src/main.ts', {
      CUSTOS_DATA_DIR: dataDir,
      CUSTOS_DEV_AUTH: 'true',
      DATABASE_URL: undefined,
      NATS_URL: undefined,
      CUSTOS_OIDC_ISSUER: undefined,
      CUSTOS_NAMESPACE: undefined,
      CUSTOS_PUBLIC_URL: PUBLIC,
    });
    client = new CustosClient(
      () => custos.url,
      async (claims) => {
        const response = await fetch(`${custos.url}/dev/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(claims) });
        return ((await response.json()) as { access_token: string }).access_token;
      },
    );
    idp = await client.token('okta-provisioning', ['custos:hr']);
    admin = await client.token('admin-1', ['custos:admin']);
  });

  afterAll(async () => {
    await custos?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('describes itself: ServiceProviderConfig, Schemas and ResourceTypes', async () => {
    const config = await scim('GET', '/ServiceProviderConfig');
    expect(config.status).toBe(200);
    expect(config.headers.get('content-type')).toContain('application/scim+json');
    expect(config.body).toMatchObject({ patch: { supported: true }, filter: { supported: true }, etag: { supported: true }, bulk: { supported: false } });
    const schemas = await scim('GET', '/Schemas');
    expect(schemas.body.schemas).toEqual([LIST]);
    expect(schemas.body.Resources.map((s: any) => s.id)).toEqual(expect.arrayContaining([USER, E, GROUP]));
    const userSchema = await scim('GET', `/Schemas/${USER}`);
    expect(userSchema.body.attributes.find((a: any) => a.name === 'userName')).toMatchObject({ required: true, uniqueness: 'server', caseExact: false });
    expect(userSchema.body.meta.location).toBe(`${PUBLIC}/scim/v2/Schemas/${USER}`);
    const characteristics = ['name', 'type', 'multiValued', 'description', 'required', 'caseExact', 'mutability', 'returned', 'uniqueness'];
    const every = (attributes: any[]): any[] => attributes.flatMap((a) => [a, ...every(a.subAttributes ?? [])]);
    for (const schema of schemas.body.Resources) {
      for (const attribute of every(schema.attributes)) expect([schema.id, attribute.name, characteristics.filter((c) => !(c in attribute))]).toEqual([schema.id, attribute.name, []]);
    }
    const members = (await scim('GET', `/Schemas/${GROUP}`)).body.attributes.find((a: any) => a.name === 'members');
    expect(members.subAttributes.map((a: any) => a.name)).toEqual(expect.arrayContaining(['value', 'display', '$ref', 'type']));
    const types = await scim('GET', '/ResourceTypes');
    expect(types.body.Resources.map((t: any) => [t.id, t.endpoint])).toEqual([
      ['User', '/Users'],
      ['Group', '/Groups'],
    ]);
  });

  it('creates Users as joiners (201, Location, ETag) and refuses a userName taken in another case (409 uniqueness)', async () => {
    const ada = await scim('POST', '/Users', user('ada', 'Ada', { externalId: `okta-ada-${run}`, [E]: { employeeNumber: `E-${run}-1`, department: 'Engineering' } }));
    expect(ada.status).toBe(201);
    ids.ada = ada.body.id;
    expect(ada.headers.get('location')).toBe(`${PUBLIC}/scim/v2/Users/${ids.ada}`);
    expect(ada.headers.get('etag')).toBe('W/"1"');
    expect(ada.body).toMatchObject({ userName: `ada@${domain}`, active: true, meta: { resourceType: 'User', version: 'W/"1"' }, [E]: { department: 'Engineering' } });
    await identity(ids.ada, (i) => i.status === 'active' && i.employeeId === `E-${run}-1`, 'the joiner');

    const bob = await scim('POST', '/Users', user('bob', 'Bob', { [E]: { department: 'Engineering', manager: { value: ids.ada } } }));
    expect(bob.status).toBe(201);
    ids.bob = bob.body.id;
    const cyd = await scim('POST', '/Users', user('cyd', 'Cyd', { emails: [{ value: `cyd@home.${domain}`, type: 'home' }, { value: `cyd@${domain}`, type: 'work' }], [E]: { department: 'Sales' } }));
    expect(cyd.status).toBe(201);
    ids.cyd = cyd.body.id;
    await identity(ids.bob, (i) => i.managerId === ids.ada, "Bob's manager link");

    const duplicate = await scim('POST', '/Users', user('ADA', 'Ada'));
    expectScimError(duplicate, 409, 'uniqueness');
  });

  it('finds Users by filter (userName eq, value paths, and / or), pages through them, and projects attributes', async () => {
    const byUserName = await list({ filter: `userName eq "Ada@${domain.toUpperCase()}"` });
    expect(byUserName.status).toBe(200);
    expect(byUserName.body).toMatchObject({ schemas: [LIST], totalResults: 1 });
    expect(byUserName.body.Resources[0].id).toBe(ids.ada);

    const byExternalId = await list({ filter: `externalId eq "okta-ada-${run}"` });
    expect(byExternalId.body.Resources.map((r: any) => r.id)).toEqual([ids.ada]);

    const workEmails = await list({ filter: `emails[type eq "work" and value ew "@${domain}"]` });
    expect(workEmails.body.totalResults).toBe(3);
    const home = await list({ filter: `emails[type eq "home"] and userName sw "cyd@"` });
    expect(home.body.Resources.map((r: any) => r.id)).toEqual([ids.cyd]);
    const either = await list({ filter: `userName eq "ada@${domain}" or userName eq "bob@${domain}"` });
    expect(either.body.Resources.map((r: any) => r.id).sort()).toEqual([ids.ada, ids.bob].sort());
    const both = await list({ filter: `${E}:department eq "engineering" and name.givenName sw "B"` });
    expect(both.body.Resources.map((r: any) => r.id)).toEqual([ids.bob]);
    const negated = await list({ filter: `userName ew "@${domain}" and not (${E}:department eq "Engineering")` });
    expect(negated.body.Resources.map((r: any) => r.id)).toEqual([ids.cyd]);

    const pages = [];
    for (const startIndex of ['1', '2', '3']) {
      const page = await list({ filter: `userName ew "@${domain}"`, startIndex, count: '1' });
      expect(page.body).toMatchObject({ totalResults: 3, startIndex: Number(startIndex), itemsPerPage: 1 });
      pages.push(page.body.Resources[0].id);
    }
    expect(pages.sort()).toEqual(Object.values(ids).sort());

    const slim = await list({ filter: `userName eq "ada@${domain}"`, attributes: 'userName' });
    expect(Object.keys(slim.body.Resources[0]).sort()).toEqual(['id', 'schemas', 'userName']);
    const without = await scim('GET', `/Users/${ids.ada}?excludedAttributes=emails,meta`);
    expect(without.body.emails).toBeUndefined();
    expect(without.body.meta).toBeUndefined();
    expect(without.body.userName).toBe(`ada@${domain}`);
  });

  it('makes PATCH a mover, with a path (Azure AD) and without (Okta), under If-Match; a stale one gets 412', async () => {
    const withPath = await scim(
      'PATCH',
      `/Users/${ids.ada}`,
      { schemas: [PATCH], Operations: [{ op: 'Replace', path: `${E}:department`, value: 'Research' }] },
      { 'if-match': 'W/"1"' },
    );
    expect(withPath.status).toBe(200);
    expect(withPath.headers.get('etag')).toBe('W/"2"');
    expect(withPath.body[E].department).toBe('Research');
    await identity(ids.ada, (i) => i.department === 'Research', 'the mover (path)');

    const withoutPath = await scim(
      'PATCH',
      `/Users/${ids.ada}`,
      { schemas: [PATCH], Operations: [{ op: 'replace', value: { title: 'Countess', [E]: { costCenter: 'CC-7' } } }] },
      { 'if-match': withPath.headers.get('etag')! },
    );
    expect(withoutPath.status).toBe(200);
    const moved = await identity(ids.ada, (i) => i.title === 'Countess', 'the mover (no path)');
    expect(moved).toMatchObject({ department: 'Research', costCenter: 'CC-7', status: 'active' });

    const stale = await scim('PATCH', `/Users/${ids.ada}`, { schemas: [PATCH], Operations: [{ op: 'replace', path: 'title', value: 'Stale' }] }, { 'if-match': 'W/"1"' });
    expectScimError(stale, 412);
    const staleDelete = await scim('DELETE', `/Users/${ids.ada}`, undefined, { 'if-match': 'W/"1"' });
    expectScimError(staleDelete, 412);
    const current = await scim('GET', `/Users/${ids.ada}`);
    expect(current.body.title).toBe('Countess');
    expect(current.headers.get('etag')).toBe(current.body.meta.version);
  });

  it('turns a Group into an identity attribute that a birthright rule grants access on', async () => {
    const entitlement = `github:scim-${run}`;
    expect((await client.call('POST', '/catalog/entitlements', { token: admin, body: { key: entitlement, application: 'github', name: 'repo', privileged: false, risk: 'low' } })).status).toBe(201);
    expect((await client.call('POST', '/roles', { token: admin, body: { key: `scim-role-${run}`, name: 'SCIM role', entitlements: [entitlement] } })).status).toBe(201);
    const rule = await client.call('POST', '/birthright-rules', { token: admin, body: { key: `scim-eng-${run}`, name: 'eng group', when: { groups: `eng-${run}` }, roles: [`scim-role-${run}`] } });
    expect(rule.status).toBe(201);

    const group = await scim('POST', '/Groups', { schemas: [GROUP], displayName: `eng-${run}`, members: [{ value: ids.ada }] });
    expect(group.status).toBe(201);
    expect(group.headers.get('location')).toBe(`${PUBLIC}/scim/v2/Groups/${group.body.id}`);
    expect(group.body.members.map((m: any) => m.value)).toEqual([ids.ada]);
    await identity(ids.ada, (i) => i.groups.includes(`eng-${run}`), "Ada's groups");
    const access = await eventually(
      async () => {
        const r = await client.call('GET', `/access/${ids.ada}`, { token: admin });
        return r.status === 200 && r.body.grants.some((g: any) => g.entitlement === entitlement) ? r.body : undefined;
      },
      { what: 'the birthright grant on the group', timeoutMs: 20_000 },
    );
    expect(access.grants.find((g: any) => g.entitlement === entitlement)).toMatchObject({ source: 'birthright', role: `scim-role-${run}` });

    const byMember = await scim('GET', `/Groups?${new URLSearchParams({ filter: `displayName eq "ENG-${run}" and members[value eq "${ids.ada}"]`, excludedAttributes: 'members' })}`);
    expect(byMember.body.totalResults).toBe(1);
    expect(byMember.body.Resources[0].members).toBeUndefined();
    const user = await scim('GET', `/Users/${ids.ada}`);
    expect(user.body.groups).toEqual([expect.objectContaining({ value: group.body.id, display: `eng-${run}` })]);
  });

  it('makes active false a leaver (also as Azure AD\'s "False") and DELETE a leaver that SCIM no longer shows', async () => {
    const disabled = await scim('PATCH', `/Users/${ids.bob}`, { schemas: [PATCH], Operations: [{ op: 'Replace', path: 'active', value: 'False' }] });
    expect(disabled.status).toBe(200);
    expect(disabled.body.active).toBe(false);
    await identity(ids.bob, (i) => i.status === 'terminated', 'the leaver (active false)');

    const deleted = await scim('DELETE', `/Users/${ids.cyd}`);
    expect(deleted.status).toBe(204);
    await identity(ids.cyd, (i) => i.status === 'terminated', 'the leaver (DELETE)');
    expectScimError(await scim('GET', `/Users/${ids.cyd}`), 404);
    expect((await list({ filter: `userName eq "cyd@${domain}"` })).body.totalResults).toBe(0);
  });

  it('answers errors as SCIM errors: bad filter, unknown User, bad PATCH, missing role', async () => {
    expectScimError(await list({ filter: 'userName eq' }), 400, 'invalidFilter');
    expectScimError(await scim('GET', `/Users/${randomUUID()}`), 404);
    expectScimError(await scim('PATCH', `/Users/${ids.ada}`, { schemas: [PATCH], Operations: [{ op: 'move', path: 'title' }] }), 400, 'invalidSyntax');
    expectScimError(await scim('POST', '/Users', '{"schemas": ['), 400, 'invalidSyntax');
    const employee = await client.token('someone');
    const forbidden = await client.call('GET', '/scim/v2/Users', { token: employee });
    expectScimError(forbidden, 403);
  });

  /** A request with a Host header of the caller's choosing (fetch keeps Host to the URL's). */
  const withHost = (method: string, url: string, host: string, body?: unknown): Promise<{ status: number; headers: Record<string, unknown>; body: any }> =>
    new Promise((resolve, reject) => {
      const target = new URL(`${custos.url}/scim/v2${url}`);
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const req = httpRequest(
        { hostname: target.hostname, port: target.port, path: target.pathname + target.search, method, headers: { host, authorization: `Bearer ${idp}`, ...(payload ? { 'content-type': 'application/scim+json' } : {}) } },
        (res) => {
          let text = '';
          res.on('data', (chunk) => (text += chunk));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text ? JSON.parse(text) : undefined }));
        },
      );
      req.on('error', reject);
      req.end(payload);
    });

  it('links from the configured public URL, never from a forged Host header', async () => {
    const created = await withHost('POST', '/Users', 'evil.example', user('host', 'Hal', { [E]: { manager: { value: ids.ada } } }));
    expect(created.status).toBe(201);
    expect(created.headers.location).toBe(`${PUBLIC}/scim/v2/Users/${created.body.id}`);
    expect(created.body.meta.location).toBe(`${PUBLIC}/scim/v2/Users/${created.body.id}`);
    expect(created.body[E].manager.$ref).toBe(`${PUBLIC}/scim/v2/Users/${ids.ada}`);
    const listed = await withHost('GET', `/Users?filter=${encodeURIComponent(`userName eq "host@${domain}"`)}`, 'evil.example');
    expect(listed.body.Resources[0].meta.location).toBe(`${PUBLIC}/scim/v2/Users/${created.body.id}`);
    const config = await withHost('GET', '/ServiceProviderConfig', 'evil.example');
    expect(JSON.stringify(config.body)).not.toContain('evil.example');
    const schemas = await withHost('GET', '/Schemas', 'evil.example');
    expect(JSON.stringify(schemas.body)).not.toContain('evil.example');
    const group = await withHost('POST', '/Groups', 'evil.example', { schemas: [GROUP], displayName: `hosted-${run}`, members: [{ value: created.body.id }] });
    expect(group.headers.location).toBe(`${PUBLIC}/scim/v2/Groups/${group.body.id}`);
    expect(group.body.members[0].$ref).toBe(`${PUBLIC}/scim/v2/Users/${created.body.id}`);
  });

  it('refuses prototype pollution through PATCH paths and values, POST and PUT bodies, filters and Groups (400), and a token without roles stays powerless', async () => {
    const target = (await scim('POST', '/Users', user('proto', 'Pat'))).body.id as string;
    const patch = (operation: Record<string, unknown> | string) =>
      scim('PATCH', `/Users/${target}`, typeof operation === 'string' ? `{"schemas": ["${PATCH}"], "Operations": [${operation}]}` : { schemas: [PATCH], Operations: [operation] });
    const attempts: [string, () => ReturnType<typeof scim>, string][] = [
      ['PATCH path __proto__', () => patch({ op: 'add', path: '__proto__.roles', value: ['custos:admin'] }), 'invalidPath'],
      ['PATCH path constructor.prototype', () => patch({ op: 'add', path: 'constructor.prototype.roles', value: ['custos:admin'] }), 'invalidPath'],
      ['PATCH path name.__proto__', () => patch({ op: 'replace', path: 'name.__proto__.roles', value: ['custos:admin'] }), 'invalidPath'],
      ['PATCH path toString (inherited)', () => patch({ op: 'add', path: 'toString.roles', value: ['custos:admin'] }), 'invalidPath'],
      ['PATCH no-path value __proto__', () => patch('{"op": "add", "value": {"__proto__": {"roles": ["custos:admin"]}}}'), 'invalidValue'],
      ['PATCH no-path dotted value', () => patch({ op: 'add', value: { '__proto__.roles': ['custos:admin'] } }), 'invalidValue'],
      ['POST body __proto__', () => scim('POST', '/Users', `{"schemas": ["${USER}"], "userName": "eve@${domain}", "name": {"givenName": "E", "familyName": "V"}, "__proto__": {"roles": ["custos:admin"]}}`), 'invalidValue'],
      ['PUT body constructor', () => scim('PUT', `/Users/${target}`, user('proto', 'Pat', { custom: { constructor: { prototype: { roles: ['custos:admin'] } } } })), 'invalidValue'],
      ['filter', () => list({ filter: '__proto__.roles pr' }), 'invalidPath'],
      ['attributes', () => scim('GET', `/Users/${target}?attributes=__proto__.roles`), 'invalidPath'],
      ['Group POST member key', () => scim('POST', '/Groups', `{"schemas": ["${GROUP}"], "displayName": "p-${run}", "members": [{"value": "${target}", "__proto__": {"roles": 1}}]}`), 'invalidValue'],
    ];
    for (const [what, attempt, scimType] of attempts) {
      const answer = await attempt();
      expect([what, answer.status, answer.body?.scimType]).toEqual([what, 400, scimType]);
      expectScimError(answer, 400, scimType);
    }
    const nobody = await client.token('nobody');
    expect((await client.call('GET', `/identities/${target}`, { token: nobody })).status).toBe(403);
    expectScimError(await client.call('GET', '/scim/v2/Users', { token: nobody }), 403);
    expect((await scim('GET', `/Users/${target}`)).body.meta.version).toBe('W/"1"');
  });

  it('refuses unknown attributes nested too deep, too many or too big (400) without writing them, and still lists Users', async () => {
    let deep: unknown = 'bottom';
    for (let i = 0; i < 2000; i++) deep = { deeper: deep };
    let nested20: unknown = 'bottom';
    for (let i = 0; i < 20; i++) nested20 = { deeper: nested20 };
    const refused = [
      user('deep', 'Dee', { custom: deep }),
      user('deep20', 'Dee', { custom: nested20 }),
      user('many', 'Mo', Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`custom${i}`, i]))),
      user('big', 'Bea', { custom: 'x'.repeat(20_000) }),
    ];
    for (const body of refused) expectScimError(await scim('POST', '/Users', body), 400, 'invalidValue');
    for (const name of ['deep', 'deep20', 'many', 'big']) expect((await list({ filter: `userName eq "${name}@${domain}"` })).body.totalResults).toBe(0);
    const all = await list({ filter: `userName ew "@${domain}"` });
    expect(all.status).toBe(200);
    expect(all.body.totalResults).toBeGreaterThan(0);
  });

  it('takes what identity providers send: names in any case, an email that is not an address, members with display', async () => {
    const loud = await scim('POST', '/Users', {
      Schemas: [USER, E],
      UserName: `loud@${domain}`,
      Name: { GivenName: 'Lou', FamilyName: 'Dee' },
      Emails: [{ Value: `loud@${domain}`, Type: 'work', Primary: true }],
      [E]: { Department: 'Ops' },
    });
    expect(loud.status).toBe(201);
    expect(loud.body).toMatchObject({ userName: `loud@${domain}`, name: { givenName: 'Lou', familyName: 'Dee' }, emails: [{ value: `loud@${domain}`, type: 'work', primary: true }], [E]: { department: 'Ops' } });
    const repatched = await scim('PATCH', `/Users/${loud.body.id}`, { schemas: [PATCH], Operations: [{ op: 'Replace', path: 'Emails[Type eq "work"].Value', value: `lou@${domain}` }] });
    expect(repatched.status).toBe(200);
    expect(repatched.body.emails).toEqual([{ value: `lou@${domain}`, type: 'work', primary: true }]);
    expect((await list({ filter: `UserName eq "loud@${domain}" and Emails.Value eq "lou@${domain}"` })).body.totalResults).toBe(1);

    const odd = await scim('POST', '/Users', user('odd', 'Odd', { emails: [{ value: 'odd at example', type: 'work' }] }));
    expect(odd.status).toBe(201);
    await identity(odd.body.id, (i) => i.email === 'odd at example', 'the identity with an odd email');
    expect((await scim('DELETE', `/Users/${odd.body.id}`)).status).toBe(204);
    await identity(odd.body.id, (i) => i.status === 'terminated', 'the leaver with an odd email');

    const group = await scim('POST', '/Groups', { schemas: [GROUP], displayName: `display-${run}`, members: [{ value: loud.body.id, display: 'Loud' }] });
    expect(group.status).toBe(201);
    expect(group.body.members).toEqual([expect.objectContaining({ value: loud.body.id, display: 'Lou Dee' })]);
  });
});
