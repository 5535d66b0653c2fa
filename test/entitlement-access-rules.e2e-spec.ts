import { CHECK_RPC } from '@custos/entitlement/contracts';
import type { NatsBus } from '@custos/platform/messaging';
import { EntitlementApi } from './support/entitlement-api';
import { EntitlementDeployment, startEntitlementDeployment } from './support/entitlement-deployment';

/**
 * Who may grant, who may ask, and what unknown identities and keys, absurd durations and GET
 * bodies sent back get: the hardening of the entitlement routes, across the four services.
 */
describe('entitlement access rules: self-grants, step-up, who may ask, unknown identities, idempotency keys, durations, PUT of a GET body', () => {
  let deployment: EntitlementDeployment;
  let api: EntitlementApi;
  let bus: NatsBus;
  let repoRead: string, prodRoot: string, merge: string, deploy: string, mergeVsDeploy: string;
  let ada: string, bob: string;
  const token = (sub: string, roles: string[] = [], amr?: string[]) => api.client.token(sub, roles, amr);
  const checkPath = (identityId: string, entitlement: string, nest = false) =>
    `/check${nest ? '/' : ''}?identityId=${encodeURIComponent(identityId)}&entitlement=${encodeURIComponent(entitlement)}`;

  beforeAll(async () => {
    deployment = await startEntitlementDeployment('custos_ent_rules');
    api = new EntitlementApi(deployment.client);
    bus = await deployment.bus();
    [repoRead, prodRoot, merge, deploy] = ['repo:read', 'prod:root', 'git:merge', 'prod:deploy'].map((k) => api.key(k));
    mergeVsDeploy = api.key('merge-vs-deploy');
    await api.defineEntitlements(repoRead, merge, deploy);
    const privileged = await api.asAdmin('POST', '/catalog/entitlements', { key: prodRoot, application: 'prod', name: 'root', privileged: true, risk: 'critical' });
    expect(privileged.status).toBe(201);
    await api.defineSodPolicy(mergeVsDeploy, [[merge], [deploy]], 'approve');
    ada = await api.hire('Ada', { department: api.key('Nowhere') });
    bob = await api.hire('Bob', { department: api.key('Nowhere') });
  });

  afterAll(async () => {
    await deployment?.stop();
  });

  describe('grants: nobody grants to themselves, privileged ones need mfa, nobody approves their own SoD exception', () => {
    it('refuses an admin whose sub is the identity granting to themselves, privileged or not (403 self-grant)', async () => {
      const self = await token(ada, ['custos:admin'], ['pwd', 'mfa']);
      for (const entitlement of [repoRead, prodRoot]) {
        const refused = await api.client.call('POST', `/access/${ada}/grant`, { token: self, body: { entitlement, reason: 'mine' } });
        expect([refused.status, refused.body.type]).toEqual([403, 'urn:custos:problem:self-grant']);
      }
      expect(await api.grants(ada)).toEqual([]);
    });

    it('refuses an admin approving their own SoD exception (403), and records another admin as approver', async () => {
      const granted = await api.asAdmin('POST', `/access/${ada}/grant`, { entitlement: merge, reason: 'reviews' });
      expect(granted.status).toBe(202);
      const self = await token(ada, ['custos:admin'], ['mfa']);
      const refused = await api.client.call('POST', `/access/${ada}/grant`, { token: self, body: { entitlement: deploy, reason: 'release', exceptionReason: 'I approve myself' } });
      expect(refused.status).toBe(403);
      const byOther = await api.asAdmin('POST', `/access/${ada}/grant`, { entitlement: deploy, reason: 'release', exceptionReason: 'CHG-1' });
      expect([byOther.status, byOther.body.sodException?.approvedBy]).toEqual([202, `admin-${api.run}`]);
    });

    it('refuses a privileged grant by an admin without mfa with 403 step-up-required, and grants it after multi-factor login', async () => {
      const refused = await api.client.call('POST', `/access/${bob}/grant`, { token: await token(`admin-${api.run}`, ['custos:admin'], ['pwd']), body: { entitlement: prodRoot, reason: 'incident' } });
      expect([refused.status, refused.body.type]).toEqual([403, 'urn:custos:problem:step-up-required']);
      expect(refused.body.detail).toContain('mfa');
      const stepped = await api.client.call('POST', `/access/${bob}/grant`, { token: await token(`admin-${api.run}`, ['custos:admin'], ['pwd', 'mfa']), body: { entitlement: prodRoot, reason: 'incident', duration: 'PT1H' } });
      expect([stepped.status, stepped.body.status]).toEqual([202, 'granted']);
    });

    it('grants to admin B with the Idempotency-Key admin A used (keys are per caller)', async () => {
      const key = `key-${api.run}`;
      const asA = await api.client.call('POST', `/access/${bob}/grant`, { token: await token(`admin-a-${api.run}`, ['custos:admin']), body: { entitlement: repoRead, reason: 'a' }, headers: { 'idempotency-key': key } });
      expect([asA.status, asA.body.status]).toEqual([202, 'granted']);
      expect((await api.asAdmin('POST', `/access/${bob}/revoke`, { entitlement: repoRead, reason: 'done' })).status).toBe(202);
      const asB = await api.client.call('POST', `/access/${bob}/grant`, { token: await token(`admin-b-${api.run}`, ['custos:admin']), body: { entitlement: repoRead, reason: 'a' }, headers: { 'idempotency-key': key } });
      expect([asB.status, asB.body.status]).toEqual([202, 'granted']);
      expect((await api.check(bob, repoRead)).allowed).toBe(true);
    });
  });

  describe('who may ask: GET /check (fast path and Nest route), /access/{id}, /access/{id}/sod', () => {
    it.each<[string, () => Promise<string>, number]>([
      ['the identity itself asking about itself gets 200', () => token(bob), 200],
      ['a policy-enforcement point with custos:checker gets 200', () => token('pep-1', ['custos:checker']), 200],
      ['an auditor gets 200', () => token('auditor-1', ['custos:auditor']), 200],
      ['an admin gets 200', () => token('admin-1', ['custos:admin']), 200],
      ['another identity without a role gets 403', () => token(ada), 403],
      ['HR gets 403', () => token('hr-1', ['custos:hr']), 403],
    ])('asking about Bob: %s', async (_description, tokenOf, status) => {
      const t = await tokenOf();
      for (const path of [checkPath(bob, repoRead), checkPath(bob, repoRead, true), `/access/${bob}`, `/access/${bob}/sod`]) {
        const answer = await api.client.call('GET', path, { token: t });
        expect([path, answer.status]).toEqual([path, status]);
        if (status === 403) expect(answer.body.type).toBe('urn:custos:problem:forbidden');
      }
    });
  });

  describe('unknown identities and keys', () => {
    it('answers 404 for the access and SoD violations of an identity nobody has heard of', async () => {
      for (const path of ['/access/does-not-exist', '/access/does-not-exist/sod']) {
        const answer = await api.asAdmin('GET', path);
        expect([answer.status, answer.body.type]).toEqual([404, 'urn:custos:problem:identity-not-found']);
      }
      // A NUL in the id cannot reach PostgreSQL (it answered 500 before): no URL with one reaches a route.
      for (const path of ['/access/a%00b', '/access/a%00b/sod']) {
        const answer = await api.asAdmin('GET', path);
        expect([answer.status, answer.body.type]).toEqual([400, 'urn:custos:problem:validation']);
      }
      expect((await api.asAdmin('GET', `/access/${ada}`)).body).toMatchObject({ identityId: ada, status: 'active' });
    });

    it('checks an unknown identity as unknown-identity on the fast path, the Nest route and NATS, and a known one without the grant as not-granted', async () => {
      for (const nest of [false, true]) {
        expect((await api.asAdmin('GET', checkPath('does-not-exist', repoRead, nest))).body).toEqual({ allowed: false, reason: 'unknown-identity', grantIds: [] });
        expect((await api.asAdmin('GET', checkPath(ada, repoRead, nest))).body).toEqual({ allowed: false, reason: 'not-granted', grantIds: [] });
      }
      expect((await api.asAdmin('GET', checkPath('a\u0000b', repoRead, true))).body).toMatchObject({ status: 400, errors: [{ field: 'url' }] });
      expect(await bus.request(CHECK_RPC, { identityId: 'does-not-exist', entitlement: repoRead })).toEqual({ allowed: false, reason: 'unknown-identity', grantIds: [] });
      expect(await bus.request(CHECK_RPC, { identityId: ada, entitlement: repoRead })).toMatchObject({ reason: 'not-granted' });
    });

    it('answers 404 for a preview of a role or rule that does not exist', async () => {
      const role = await api.asAdmin('POST', `/roles/${api.key('ghost-role')}/preview`, { name: 'x', entitlements: [repoRead] });
      expect([role.status, role.body.type]).toEqual([404, 'urn:custos:problem:not-defined']);
      const rule = await api.asAdmin('POST', `/birthright-rules/${api.key('ghost-rule')}/preview`, { name: 'x', when: { all: true }, roles: [api.key('ghost-role')] });
      expect(rule.status).toBe(404);
    });
  });

  describe('durations', () => {
    it.each(['P300000Y', 'PT99999999999999999999H'])('refuses the grant duration %s with 400 naming duration, granting nothing', async (duration) => {
      const refused = await api.asAdmin('POST', `/access/${ada}/grant`, { entitlement: repoRead, reason: 'x', duration });
      expect([refused.status, refused.body.errors?.map((e: { field: string }) => e.field)]).toEqual([400, ['duration']]);
      expect((await api.check(ada, repoRead)).allowed).toBe(false);
    });

    it.each(['P300000Y', 'PT99999999999999999999H'])('refuses the maxDuration %s with 400 naming maxDuration, and grants with a duration still work', async (maxDuration) => {
      const key = api.key(`capped-${maxDuration.length}`);
      const defined = await api.asAdmin('POST', '/catalog/entitlements', { key, application: 'capped', name: 'capped', privileged: false, risk: 'low', maxDuration });
      expect([defined.status, defined.body.errors?.map((e: { field: string }) => e.field)]).toEqual([400, ['maxDuration']]);
      expect((await api.asAdmin('GET', `/catalog/entitlements/${key}`)).status).toBe(404);
      const changed = await api.asAdmin('PUT', `/catalog/entitlements/${merge}`, { maxDuration });
      expect([changed.status, changed.body.errors?.map((e: { field: string }) => e.field)]).toEqual([400, ['maxDuration']]);
      expect((await api.asAdmin('GET', `/catalog/entitlements/${merge}`)).body.maxDuration).toBeUndefined();
      expect((await api.asAdmin('POST', `/access/${bob}/grant`, { entitlement: merge, reason: 'x', duration: 'PT1H' })).status).toBe(202);
    });
  });

  describe('PUT accepts the body GET returns', () => {
    it('sends a role, a rule and an entitlement back unchanged (200), previews them, and refuses a different key with 400 naming key', async () => {
      await api.defineRole(api.key('base'), [repoRead]);
      await api.defineRule(api.key('rule'), { department: api.key('Nowhere') }, [api.key('base')]);
      for (const path of [`/roles/${api.key('base')}`, `/birthright-rules/${api.key('rule')}`, `/catalog/entitlements/${repoRead}`]) {
        const got = await api.asAdmin('GET', path);
        expect(got.status).toBe(200);
        const put = await api.asAdmin('PUT', path, got.body);
        expect([path, put.status, put.body]).toEqual([path, 200, got.body]);
        if (!path.startsWith('/catalog')) {
          expect([path, (await api.asAdmin('POST', `${path}/preview`, got.body)).status]).toEqual([path, 200]);
        }
        const renamed = await api.asAdmin('PUT', path, { ...got.body, key: api.key('other') });
        expect([path, renamed.status, renamed.body.errors?.map((e: { field: string }) => e.field)]).toEqual([path, 400, ['key']]);
      }
      const moved = await api.asAdmin('PUT', `/catalog/entitlements/${repoRead}`, { application: 'elsewhere' });
      expect([moved.status, moved.body.errors?.map((e: { field: string }) => e.field)]).toEqual([400, ['application']]);
    });
  });
});
