import { randomUUID } from 'node:crypto';
import { eventually } from '@custos/platform/testing';
import { startEmbedded, type Deployment } from './support/deployment';

/**
 * Connector tokens: an admin makes one for an HR system, which then posts HR events with it; the
 * value is shown once, never listed, never replayed, and stops working the moment it is revoked.
 */
describe('connector tokens (/admin/tokens)', () => {
  let d: Deployment;
  let admin: string;
  const run = randomUUID().slice(0, 8);
  const joiner = (token: string, n: number) =>
    d.client.call('POST', '/hr/events', {
      token,
      body: { eventId: `${run}-${n}`, system: 'workday', type: 'joiner', employee: { employeeId: `CT${run}${n}`, givenName: 'Con', familyName: 'Nector', email: `ct-${run}-${n}@example.com`, employmentType: 'employee' } },
    });

  beforeAll(async () => {
    d = await startEmbedded(120_000);
    admin = await d.client.token('admin-ct', ['custos:admin']);
  }, 180_000);
  afterAll(() => d?.stop());

  it('makes a token for an HR system that posts HR events with it, shown once and listed without its value', async () => {
    const created = await d.client.call('POST', '/admin/tokens', { token: admin, body: { name: 'workday-test', expiresIn: 'P30D' } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'workday-test', roles: ['custos:hr'], createdBy: 'admin-ct', revokedAt: null });
    const token = created.body.token as string;
    expect(token).toMatch(/^cst_/);
    expect([200, 202]).toContain((await joiner(token, 1)).status);
    // A connector token is an HR token, nothing more.
    expect((await d.client.call('GET', '/catalog/entitlements', { token })).status).toBe(200);
    expect((await d.client.call('POST', '/admin/tokens', { token, body: { name: 'escalation' } })).status).toBe(403);
    const listed = await d.client.call('GET', '/admin/tokens', { token: admin });
    expect(listed.text).not.toContain(token);
    await eventually(async () => {
      const mine = ((await d.client.call('GET', '/admin/tokens', { token: admin })).body.items as Array<{ id: string; lastUsedAt: string | null }>).find((t) => t.id === created.body.id);
      return mine?.lastUsedAt !== null;
    }, { what: 'lastUsedAt' });
  });

  it('refuses a revoked token at once with 401', async () => {
    const created = (await d.client.call('POST', '/admin/tokens', { token: admin, body: { name: 'to-revoke' } })).body;
    expect([200, 202]).toContain((await joiner(created.token, 2)).status);
    const revoked = await d.client.call('DELETE', `/admin/tokens/${created.id}`, { token: admin });
    expect(revoked.status).toBe(200);
    expect(revoked.body).toMatchObject({ id: created.id, revokedBy: 'admin-ct' });
    expect((await joiner(created.token, 3)).status).toBe(401);
    expect((await d.client.call('DELETE', '/admin/tokens/0000000000000000', { token: admin })).status).toBe(404);
  });

  it('never replays a token for a repeated Idempotency-Key: the answer holding it is not kept', async () => {
    const headers = { 'Idempotency-Key': `ct-${run}` };
    const first = await d.client.call('POST', '/admin/tokens', { token: admin, body: { name: 'once' }, headers });
    const second = await d.client.call('POST', '/admin/tokens', { token: admin, body: { name: 'once' }, headers });
    expect([first.status, second.status]).toEqual([201, 201]);
    expect(second.body.id).not.toBe(first.body.id);
  });

  it('writes the audit log as CSV whose formula-like cells are escaped (a correlation id =1+2 is text, not a formula)', async () => {
    const hr = await d.client.token('hr-csv', ['custos:hr']);
    const posted = await d.client.call('POST', '/hr/events', {
      token: hr,
      headers: { 'x-correlation-id': '=1+2' },
      body: { eventId: `${run}-csv`, system: 'workday', type: 'joiner', employee: { employeeId: `CSV${run}`, givenName: 'Cell', familyName: 'Formula', email: `csv-${run}@example.com`, employmentType: 'employee' } },
    });
    expect([200, 202]).toContain(posted.status);
    const auditor = await d.client.token('auditor-csv', ['custos:auditor']);
    const csv = await eventually(async () => {
      const answer = await d.client.call('GET', '/audit/events?correlationId=%3D1%2B2&limit=10', { token: auditor, headers: { accept: 'text/csv' } });
      return answer.text.split('\r\n').length > 2 ? answer.text : undefined;
    }, { what: 'the joiner in the audit log' });
    const [header, first] = csv!.split('\r\n');
    expect(header).toBe('seq,time,type,subject,actor,correlationid,causationid,id,hash,data');
    expect(first).toContain(",'=1+2,");
    expect(first).not.toMatch(/(^|,)=1\+2(,|$)/);
  });

  it("records the connector token's id, never its value, as the actor of what it sends: HR events now and later, SCIM users and groups", async () => {
    const created = (await d.client.call('POST', '/admin/tokens', { token: admin, body: { name: 'audited' } })).body as { id: string; token: string };
    const actor = `connector:${created.id}`;
    const hired = await joiner(created.token, 4);
    expect(hired.status).toBe(202);
    const ada = hired.body.identityId as string;
    // A mover dated in the future waits for its date, and is still the connector's change when it applies.
    const inASecond = new Date(Date.now() + 1_500).toISOString();
    const moved = await d.client.call('POST', '/hr/events', {
      token: created.token,
      body: { eventId: `${run}-4-move`, system: 'workday', type: 'mover', effectiveAt: inASecond, employee: { employeeId: `CT${run}4`, givenName: 'Con', familyName: 'Nector', email: `ct-${run}-4@example.com`, department: 'Audit', employmentType: 'employee' } },
    });
    expect([moved.status, moved.body.status]).toEqual([202, 'scheduled']);
    const scim = (method: string, url: string, body: unknown) => d.client.call(method, `/scim/v2${url}`, { token: created.token, body, headers: { 'content-type': 'application/scim+json' } });
    const user = await scim('POST', '/Users', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: `scim-${run}@example.com`, externalId: `SC${run}`, name: { givenName: 'Sc', familyName: 'Im' }, emails: [{ value: `scim-${run}@example.com`, primary: true }], active: true });
    expect(user.status).toBe(201);
    const group = await scim('POST', '/Groups', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: `ct-${run}`, members: [{ value: user.body.id }] });
    expect(group.status).toBe(201);

    const history = async (identityId: string) => (await d.client.call('GET', `/identities/${identityId}/history`, { token: admin })).body.items as Array<{ type: string; actor?: string }>;
    const adaHistory = await eventually(() => history(ada), { accept: (items) => items.some((e) => e.type === 'IdentityMoved'), what: 'the scheduled mover applied', timeoutMs: 30_000 });
    expect(adaHistory.map((e) => [e.type, e.actor])).toEqual(expect.arrayContaining([['IdentityHired', actor], ['IdentityMoved', actor]]));
    const scimHistory = await history(user.body.id as string);
    expect(scimHistory.map((e) => e.actor)).toEqual(scimHistory.map(() => actor));
    expect(scimHistory.map((e) => e.type)).toEqual(expect.arrayContaining(['GroupsAssigned']));
    expect(JSON.stringify([adaHistory, scimHistory])).not.toContain(created.token.slice('cst_0123456789abcdef_'.length));
    // A caller without a connector token is recorded by its subject.
    const byOidc = await joiner(await d.client.token('hr-system-7', ['custos:hr']), 5);
    expect((await history(byOidc.body.identityId as string)).map((e) => e.actor)).toEqual(['hr-system-7']);
  });

  it('refuses roles beyond custos:hr and a life longer than ten years with 400', async () => {
    expect((await d.client.call('POST', '/admin/tokens', { token: admin, body: { name: 'x', roles: ['custos:admin'] } })).status).toBe(400);
    expect((await d.client.call('POST', '/admin/tokens', { token: admin, body: { name: 'x', expiresIn: 'P11Y' } })).status).toBe(400);
    expect((await d.client.call('POST', '/admin/tokens', { token: admin, body: { name: 'x', expiresIn: 'soon' } })).status).toBe(400);
  });
});
