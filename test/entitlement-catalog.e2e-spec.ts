import { EntitlementApi } from './support/entitlement-api';
import { EntitlementDeployment, startEntitlementDeployment } from './support/entitlement-deployment';

/**
 * The catalog over HTTP: bad input is refused with the status the issue names and nothing is
 * written; a birthright rule change is previewed before it is made; entitlements change and retire.
 */
describe('entitlement catalog: bad input, rule previews, entitlement change and retirement', () => {
  let deployment: EntitlementDeployment;
  let api: EntitlementApi;
  let toolA: string, toolB: string, badge: string, legacy: string, opsBase: string, opsPlus: string, opsRule: string, ops: string;

  beforeAll(async () => {
    deployment = await startEntitlementDeployment('custos_ent_catalog');
    api = new EntitlementApi(deployment.client);
    [toolA, toolB, badge, legacy] = ['tool:a', 'tool:b', 'office:badge', 'legacy:app'].map((k) => api.key(k));
    [opsBase, opsPlus, opsRule, ops] = ['ops-base', 'ops-plus', 'ops', 'Operations'].map((k) => api.key(k));
    await api.defineEntitlements(toolA, toolB, badge, legacy);
    await api.defineRole(api.key('staff'), [badge]);
    await api.defineRole(api.key('legacy-bundle'), [legacy, badge]);
    await api.defineRole(opsBase, [toolA]);
    await api.defineRole(opsPlus, [toolB]);
    await api.defineRule(opsRule, { department: ops }, [opsBase]);
  });

  afterAll(async () => {
    await deployment?.stop();
  });

  describe('bad input', () => {
    it.each<[string, string, () => unknown, () => string]>([
      ['a role naming an unknown entitlement', '/roles', () => ({ key: api.key('bad-role'), name: 'bad', entitlements: [toolA, api.key('ghost:ent')] }), () => api.key('ghost:ent')],
      ['a role naming an unknown child role', '/roles', () => ({ key: api.key('bad-role-2'), name: 'bad', entitlements: [], roles: [api.key('ghost-role')] }), () => api.key('ghost-role')],
      ['a rule naming an unknown role', '/birthright-rules', () => ({ key: api.key('bad-rule'), name: 'bad', when: { department: ops }, roles: [api.key('ghost-role')] }), () => api.key('ghost-role')],
      ['a SoD policy naming an unknown entitlement', '/sod-policies', () => ({ key: api.key('bad-policy'), name: 'bad', conflicting: [[toolA], [api.key('ghost:ent')]] }), () => api.key('ghost:ent')],
    ])('refuses %s with 422 naming the key, and writes nothing', async (_description, path, body, unknownKey) => {
      const refused = await api.asAdmin('POST', path, body());
      expect(refused.status).toBe(422);
      expect(refused.headers.get('content-type')).toContain('application/problem+json');
      expect(refused.body.type).toBe('urn:custos:problem:unknown-reference');
      expect(refused.body.keys).toEqual([unknownKey()]);
      expect(refused.body.detail).toContain(unknownKey());
      const key = (body() as { key: string }).key;
      expect((await api.asAdmin('GET', `${path}/${key}`)).status).toBe(404);
    });

    it('refuses an admin grant of an unknown entitlement with 422 naming it', async () => {
      const kim = await api.hire('Kim0', { department: api.key('Nowhere') });
      const refused = await api.asAdmin('POST', `/access/${kim}/grant`, { entitlement: api.key('ghost:ent'), reason: 'x' });
      expect([refused.status, refused.body.keys]).toEqual([422, [api.key('ghost:ent')]]);
    });

    it.each<[string, string, () => unknown]>([
      ['an entitlement', '/catalog/entitlements', () => ({ key: toolA, application: 'tool', name: 'again', privileged: false, risk: 'low' })],
      ['a role', '/roles', () => ({ key: opsBase, name: 'again', entitlements: [toolB] })],
      ['a birthright rule', '/birthright-rules', () => ({ key: opsRule, name: 'again', when: { department: 'Elsewhere' }, roles: [opsPlus] })],
      ['a SoD policy', '/sod-policies', () => ({ key: api.key('dup-policy'), name: 'again', conflicting: [[toolA], [toolB]] })],
    ])('refuses a duplicate key of %s with 409', async (_description, path, body) => {
      if (path === '/sod-policies') await api.defineSodPolicy(api.key('dup-policy'), [[toolA], [toolB]], 'approve');
      const duplicate = await api.asAdmin('POST', path, body());
      expect(duplicate.status).toBe(409);
      expect(duplicate.body.type).toBe('urn:custos:problem:already-defined');
      expect(duplicate.body.detail).toContain((body() as { key: string }).key);
    });

    it('refuses a rule without conditions with 400, and accepts an explicit { all: true }', async () => {
      const refused = await api.asAdmin('POST', '/birthright-rules', { key: api.key('no-conditions'), name: 'none', when: {}, roles: [opsBase] });
      expect([refused.status, refused.body.type]).toEqual([400, 'urn:custos:problem:rule-without-conditions']);
      expect(refused.body.detail).toContain('{ all: true }');
      expect((await api.asAdmin('GET', `/birthright-rules/${api.key('no-conditions')}`)).status).toBe(404);
      const mixed = await api.asAdmin('POST', '/birthright-rules', { key: api.key('no-conditions'), name: 'mixed', when: { all: true, department: ops }, roles: [opsBase] });
      expect(mixed.status).toBe(400);
      expect(mixed.body.errors).toEqual([expect.objectContaining({ field: 'when.all' })]);

      // Previewed only (on a defined rule: a preview answers what a PUT would do): a rule for everyone would grant to every identity of this deployment.
      const everyone = await api.asAdmin('POST', `/birthright-rules/${opsRule}/preview`, { name: 'Everyone', when: { all: true }, roles: [opsBase] });
      expect(everyone.status).toBe(200);
      expect((await api.asAdmin('POST', `/birthright-rules/${api.key('everyone')}/preview`, { name: 'Everyone', when: { all: true }, roles: [opsBase] })).status).toBe(404);
      const defined = await api.asAdmin('POST', '/birthright-rules', { key: api.key('everyone'), name: 'Everyone', when: { all: true }, roles: [api.key('staff')] });
      expect([defined.status, defined.body.when]).toEqual([201, { all: true }]);
    });
  });

  describe('a birthright rule change, previewed first', () => {
    let kim: string;

    beforeAll(async () => {
      kim = await api.hire('Kim', { department: ops });
      await api.grantsWhen(kim, (g) => g.some((x) => x.entitlement === toolA), 'Kim’s birthright');
    });

    it('answers who would gain and lose what, and changes nothing', async () => {
      const preview = await api.asAdmin('POST', `/birthright-rules/${opsRule}/preview`, { name: 'Operations', when: { department: ops }, roles: [opsPlus] });
      expect(preview.status).toBe(200);
      expect(preview.body).toEqual({
        items: [
          {
            identityId: kim,
            gains: [{ entitlement: toolB, role: opsPlus, ruleKey: opsRule }],
            losses: [{ entitlement: toolA, role: opsBase, ruleKey: opsRule }],
            entitlementsGained: [toolB],
            entitlementsLost: [toolA],
          },
        ],
        next: null,
      });
      expect((await api.asAdmin('GET', `/birthright-rules/${opsRule}`)).body.roles).toEqual([opsBase]);
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect((await api.grants(kim)).some((g) => g.entitlement === toolB && g.ruleKey === opsRule)).toBe(false);
    });

    it('answers an empty list for a proposal that changes nothing, and refuses what PUT would refuse', async () => {
      const same = await api.asAdmin('POST', `/birthright-rules/${opsRule}/preview`, { name: opsRule, when: { department: ops }, roles: [opsBase] });
      expect([same.status, same.body]).toEqual([200, { items: [], next: null }]);
      const noConditions = await api.asAdmin('POST', `/birthright-rules/${opsRule}/preview`, { name: 'x', when: {}, roles: [opsBase] });
      expect(noConditions.status).toBe(400);
      const unknownRole = await api.asAdmin('POST', `/birthright-rules/${opsRule}/preview`, { name: 'x', when: { department: ops }, roles: [api.key('ghost-role')] });
      expect([unknownRole.status, unknownRole.body.keys]).toEqual([422, [api.key('ghost-role')]]);
      const unknownEntitlement = await api.asAdmin('POST', `/roles/${opsBase}/preview`, { name: 'x', entitlements: [api.key('ghost:ent')] });
      expect([unknownEntitlement.status, unknownEntitlement.body.keys]).toEqual([422, [api.key('ghost:ent')]]);
      const notAdmin = await api.client.call('POST', `/birthright-rules/${opsRule}/preview`, { token: await api.client.token(kim), body: { name: 'x', when: { department: ops }, roles: [opsPlus] } });
      expect(notAdmin.status).toBe(403);
    });

    it('then PUT makes the change: the identity gains and loses as previewed', async () => {
      const changed = await api.asAdmin('PUT', `/birthright-rules/${opsRule}`, { name: 'Operations', when: { department: ops }, roles: [opsPlus] });
      expect([changed.status, changed.body.roles]).toEqual([200, [opsPlus]]);
      const grants = await api.grantsWhen(kim, (g) => g.filter((x) => x.ruleKey === opsRule).map((x) => x.entitlement).join() === toolB, 'Kim’s access after the rule change');
      expect(grants.some((g) => g.entitlement === toolA)).toBe(false);
      const revoked = await api.auditEventsWhen(kim, 'AccessRevoked', (e) => e.length === 1, 'the revocation by the rule change');
      expect(revoked[0].data).toMatchObject({ entitlement: toolA, reason: 'rule-changed' });
    });
  });

  describe('entitlement change and retirement', () => {
    it('changes the given fields, and clears an optional one with null', async () => {
      const changed = await api.asAdmin('PUT', `/catalog/entitlements/${legacy}`, { name: 'Legacy app', risk: 'high', maxDuration: 'PT8H' });
      expect(changed.status).toBe(200);
      expect(changed.body).toMatchObject({ key: legacy, name: 'Legacy app', risk: 'high', maxDuration: 'PT8H', privileged: false });
      const cleared = await api.asAdmin('PUT', `/catalog/entitlements/${legacy}`, { maxDuration: null });
      expect(cleared.body.maxDuration).toBeUndefined();
      expect((await api.asAdmin('GET', `/catalog/entitlements/${legacy}`)).body).toMatchObject({ name: 'Legacy app', risk: 'high' });
      const bad = await api.asAdmin('PUT', `/catalog/entitlements/${legacy}`, { risk: 'extreme', name: null });
      expect(bad.status).toBe(400);
      expect([...new Set(bad.body.errors.map((e: { field: string }) => e.field))].sort()).toEqual(['name', 'risk']);
      expect((await api.asAdmin('PUT', `/catalog/entitlements/${api.key('ghost:ent')}`, { name: 'x' })).status).toBe(404);
    });

    it('retires an entitlement: no longer served, granted, referenced or redefined', async () => {
      const retired = await api.asAdmin('DELETE', `/catalog/entitlements/${legacy}?reason=${encodeURIComponent('replaced by tool:b')}`);
      expect([retired.status, retired.body.status]).toEqual([200, 'retired']);
      expect((await api.asAdmin('GET', `/catalog/entitlements/${legacy}`)).status).toBe(404);
      const kim = await api.hire('Kim2', { department: api.key('Nowhere') });
      expect((await api.asAdmin('POST', `/access/${kim}/grant`, { entitlement: legacy, reason: 'x' })).status).toBe(422);
      expect((await api.asAdmin('POST', '/roles', { key: api.key('legacy-role'), name: 'x', entitlements: [legacy] })).status).toBe(422);
      expect((await api.asAdmin('POST', '/catalog/entitlements', { key: legacy, application: 'legacy', name: 'x', privileged: false, risk: 'low' })).status).toBe(409);
      expect((await api.asAdmin('PUT', `/catalog/entitlements/${legacy}`, { name: 'x' })).status).toBe(409);
      // A role that named it no longer gives it: a rule granting the role would give the rest only.
      const preview = await api.asAdmin('POST', `/birthright-rules/${opsRule}/preview`, { name: 'x', when: { department: ops }, roles: [api.key('legacy-bundle')] });
      expect(preview.body.items.map((i: { gains: Array<{ entitlement: string }> }) => i.gains.map((g) => g.entitlement))).toEqual([[badge]]);
    });
  });
});
