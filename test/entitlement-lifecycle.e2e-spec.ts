import { eventually } from '@custos/platform/testing';
import { EntitlementApi, Grant } from './support/entitlement-api';
import { EntitlementDeployment, startEntitlementDeployment } from './support/entitlement-deployment';

const entitlementsOf = (grants: Grant[]) => grants.map((g) => g.entitlement).sort();

/**
 * Joiner, mover, leaver, expiry and catalog changes, from HR and admin input to access and the
 * check API, across the four services as separate processes over NATS and PostgreSQL.
 */
describe('entitlement lifecycle: birthright follows HR and the catalog, access ends on time', () => {
  let deployment: EntitlementDeployment;
  let api: EntitlementApi;
  let repoRead: string, crmRead: string, erpAdmin: string, vpn: string, wikiEdit: string, hrPortal: string;
  let engineering: string, sales: string, engRole: string;

  beforeAll(async () => {
    deployment = await startEntitlementDeployment('custos_ent_lifecycle');
    api = new EntitlementApi(deployment.client);
    [repoRead, crmRead, erpAdmin, vpn, wikiEdit, hrPortal] = ['repo:read', 'crm:read', 'erp:admin', 'vpn:connect', 'wiki:edit', 'hr:portal'].map((k) => api.key(k));
    [engineering, sales, engRole] = [api.key('Engineering'), api.key('Sales'), api.key('eng-base')];
    await api.defineEntitlements(repoRead, crmRead, erpAdmin, vpn, wikiEdit, hrPortal);
    await api.defineRole(engRole, [repoRead]);
    await api.defineRole(api.key('sales-base'), [crmRead]);
    await api.defineRule(api.key('engineering'), { department: engineering }, [engRole]);
    await api.defineRule(api.key('sales'), { department: sales }, [api.key('sales-base')]);
  });

  afterAll(async () => {
    await deployment?.stop();
  });

  let ada: string;

  it('gives a joiner the birthright of the rules matching their department', async () => {
    ada = await api.hire('Ada', { department: engineering });
    const grants = await api.grantsWhen(ada, (g) => g.length === 1, 'Ada’s birthright');
    expect(grants[0]).toMatchObject({ entitlement: repoRead, source: 'birthright', role: engRole, ruleKey: api.key('engineering') });
    expect((await api.check(ada, repoRead)).allowed).toBe(true);
    expect((await api.check(ada, crmRead)).allowed).toBe(false);
  });

  it('moves a mover’s birthright to the new department and keeps admin access, flagged for review', async () => {
    const granted = await api.asAdmin('POST', `/access/${ada}/grant`, { entitlement: erpAdmin, reason: 'month-end close' });
    expect([granted.status, granted.body.status]).toEqual([202, 'granted']);
    const adminGrantId: string = granted.body.grantId;

    await api.move('Ada', { department: sales });
    const grants = await api.grantsWhen(ada, (g) => entitlementsOf(g).join() === [crmRead, erpAdmin].sort().join(), 'Ada’s access after the move');
    expect(grants.find((g) => g.entitlement === crmRead)).toMatchObject({ source: 'birthright', ruleKey: api.key('sales') });
    expect(grants.find((g) => g.entitlement === erpAdmin)).toMatchObject({ source: 'admin', grantId: adminGrantId });
    expect((await api.check(ada, repoRead)).allowed).toBe(false);

    const revoked = await api.auditEventsWhen(ada, 'AccessRevoked', (e) => e.length === 1, 'the revocation of the old birthright');
    expect(revoked[0].data).toMatchObject({ entitlement: repoRead, reason: 'mover' });
    const flagged = await api.auditEventsWhen(ada, 'MoverReviewFlagged', (e) => e.length === 1, 'the mover review flag');
    expect(flagged[0].data.grantIds).toEqual([adminGrantId]);
  });

  it('revokes every grant of a leaver, a time-bound admin grant included, and the check denies at once', async () => {
    const bob = await api.hire('Bob', { department: engineering });
    await api.grantsWhen(bob, (g) => g.length === 1, 'Bob’s birthright');
    const granted = await api.asAdmin('POST', `/access/${bob}/grant`, { entitlement: vpn, reason: 'on call', duration: 'PT1H' });
    expect(granted.status).toBe(202);
    const held = await api.grantsWhen(bob, (g) => g.length === 2, 'Bob’s admin grant');
    expect(held.find((g) => g.entitlement === vpn)?.expiresAt).toBeDefined();

    await api.leave('Bob');
    const denied = await eventually(() => api.check(bob, vpn), { accept: (c) => !c.allowed, what: 'the check to deny the leaver', timeoutMs: 20_000, intervalMs: 50 });
    expect(denied.reason).toBe('terminated');
    expect((await api.check(bob, repoRead)).reason).toBe('terminated');
    await api.grantsWhen(bob, (g) => g.length === 0, 'Bob’s grants to be revoked');
    const revoked = await api.auditEventsWhen(bob, 'AccessRevoked', (e) => e.length === 2, 'the leaver revocations');
    expect(revoked.map((e) => [e.data.entitlement, e.data.reason]).sort()).toEqual([
      [repoRead, 'leaver'],
      [vpn, 'leaver'],
    ].sort());
  });

  it('ends an admin grant with duration PT2S by the scheduler: AccessRevoked with reason expired, and the check denies', async () => {
    const cy = await api.hire('Cy', { department: engineering });
    await api.grantsWhen(cy, (g) => g.length === 1, 'Cy’s birthright');
    const granted = await api.asAdmin('POST', `/access/${cy}/grant`, { entitlement: vpn, reason: 'a quick fix', duration: 'PT2S' });
    expect(granted.status).toBe(202);
    const held = await api.grantsWhen(cy, (g) => g.some((x) => x.entitlement === vpn), 'Cy’s time-bound grant', 5_000);
    const grant = held.find((g) => g.entitlement === vpn)!;
    expect(Date.parse(grant.expiresAt!) - Date.parse(grant.grantedAt)).toBe(2_000);

    const expired = await api.auditEventsWhen(cy, 'AccessRevoked', (e) => e.length === 1, 'the expiry', 20_000);
    expect(expired[0].data).toMatchObject({ grantId: grant.grantId, entitlement: vpn, reason: 'expired', source: 'admin' });
    expect(expired[0].actor).toBe('system:expiry');
    expect(entitlementsOf(await api.grants(cy))).toEqual([repoRead]);
    expect(await api.check(cy, vpn)).toMatchObject({ allowed: false });
  });

  it('previews a role change without changing anything, then applies it to every identity holding the role', async () => {
    const dee = await api.hire('Dee', { department: engineering });
    await api.grantsWhen(dee, (g) => g.length === 1, 'Dee’s birthright');
    const proposal = { name: 'Engineering base', entitlements: [repoRead, wikiEdit] };

    const preview = await api.asAdmin('POST', `/roles/${engRole}/preview`, proposal);
    expect(preview.status).toBe(200);
    const forDee = preview.body.items.find((i: any) => i.identityId === dee);
    expect(forDee).toMatchObject({ gains: [{ entitlement: wikiEdit, role: engRole, ruleKey: api.key('engineering') }], losses: [], entitlementsGained: [wikiEdit] });
    // Ada moved out of Engineering and Bob left: neither is affected.
    expect(preview.body.items.map((i: any) => i.identityId)).not.toContain(ada);

    // Nothing changed: the role, and Dee's access.
    expect((await api.asAdmin('GET', `/roles/${engRole}`)).body.entitlements).toEqual([repoRead]);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(entitlementsOf(await api.grants(dee))).toEqual([repoRead]);

    const changed = await api.asAdmin('PUT', `/roles/${engRole}`, proposal);
    expect([changed.status, changed.body.entitlements]).toEqual([200, [repoRead, wikiEdit]]);
    const grants = await api.grantsWhen(dee, (g) => g.length === 2, 'Dee’s gain from the role change');
    expect(grants.find((g) => g.entitlement === wikiEdit)).toMatchObject({ source: 'birthright', role: engRole });
    expect((await api.check(dee, wikiEdit)).allowed).toBe(true);
  });

  it('grants a birthright rule defined after the identity exists', async () => {
    const finance = api.key('Finance');
    const eve = await api.hire('Eve', { department: finance, title: 'Analyst' });
    const ruleKey = api.key('finance');
    await api.defineRole(api.key('finance-base'), [hrPortal]);
    const rule = { name: 'Finance', when: { department: finance }, roles: [api.key('finance-base')] };

    // Once the entitlement service knows Eve, she holds nothing; a rule not yet defined has no preview (404: a preview answers what a PUT would do).
    await eventually(() => api.asAdmin('GET', `/access/${eve}`), { accept: (r) => r.status === 200, what: 'Eve known to the entitlement service', timeoutMs: 20_000, intervalMs: 200 });
    expect(await api.grants(eve)).toEqual([]);
    expect((await api.asAdmin('POST', `/birthright-rules/${ruleKey}/preview`, rule)).status).toBe(404);

    await api.defineRule(ruleKey, rule.when, rule.roles);
    const grants = await api.grantsWhen(eve, (g) => g.length === 1, 'Eve’s birthright from the new rule');
    expect(grants[0]).toMatchObject({ entitlement: hrPortal, source: 'birthright', ruleKey });
  });
});
