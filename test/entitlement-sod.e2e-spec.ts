import { EVALUATE_SOD_RPC, type EvaluateSodResult } from '@custos/entitlement/contracts';
import type { NatsBus } from '@custos/platform/messaging';
import { RpcError } from '@custos/platform/messaging';
import { EntitlementApi } from './support/entitlement-api';
import { EntitlementDeployment, startEntitlementDeployment } from './support/entitlement-deployment';

/**
 * Separation of duties end to end: the evaluate-sod query the request service asks over NATS,
 * admin grants against `prevent` and `approve` policies, and the violations an identity holds,
 * birthright-made ones included.
 */
describe('entitlement SoD: evaluate over NATS, refuse or except admin grants, list held violations', () => {
  let deployment: EntitlementDeployment;
  let api: EntitlementApi;
  let bus: NatsBus;
  let vendorCreate: string, paymentRelease: string, codeMerge: string, prodDeploy: string, ledgerPost: string, ledgerApprove: string;
  let preventPolicy: string, approvePolicy: string, ledgerPolicy: string;
  let ivy: string;

  beforeAll(async () => {
    deployment = await startEntitlementDeployment('custos_ent_sod');
    api = new EntitlementApi(deployment.client);
    bus = await deployment.bus();
    [vendorCreate, paymentRelease, codeMerge, prodDeploy, ledgerPost, ledgerApprove] = [
      'erp:vendor-create',
      'erp:payment-release',
      'git:merge',
      'prod:deploy',
      'ledger:post',
      'ledger:approve',
    ].map((k) => api.key(k));
    [preventPolicy, approvePolicy, ledgerPolicy] = ['vendor-vs-release', 'merge-vs-deploy', 'post-vs-approve'].map((k) => api.key(k));
    await api.defineEntitlements(vendorCreate, paymentRelease, codeMerge, prodDeploy, ledgerPost, ledgerApprove);
    await api.defineSodPolicy(preventPolicy, [[vendorCreate], [paymentRelease]], 'prevent');
    await api.defineSodPolicy(approvePolicy, [[codeMerge], [prodDeploy]], 'approve');
    await api.defineSodPolicy(ledgerPolicy, [[ledgerPost], [ledgerApprove]], 'prevent');
    await api.defineRole(api.key('developer'), [codeMerge]);
    await api.defineRule(api.key('developers'), { department: api.key('Dev') }, [api.key('developer')]);
    // Birthright is not refused by SoD: a rule can hand out both sides of a policy.
    await api.defineRole(api.key('accountant'), [ledgerPost, ledgerApprove]);
    await api.defineRule(api.key('accounting'), { department: api.key('Accounting') }, [api.key('accountant')]);

    ivy = await api.hire('Ivy', { department: api.key('Dev') });
    await api.grantsWhen(ivy, (g) => g.length === 1, 'Ivy’s birthright');
  });

  afterAll(async () => {
    await deployment?.stop();
  });

  it('serves a SoD policy by key, and 404 for an unknown one', async () => {
    const policy = await api.asAdmin('GET', `/sod-policies/${approvePolicy}`);
    expect([policy.status, policy.body]).toEqual([200, { key: approvePolicy, name: approvePolicy, conflicting: [[codeMerge], [prodDeploy]], mode: 'approve', severity: 'high' }]);
    const unknown = await api.asAdmin('GET', `/sod-policies/${api.key('no-such-policy')}`);
    expect(unknown.status).toBe(404);
  });

  it.each<[string, () => string[], 'allow' | 'approve' | 'prevent', () => string[]]>([
    ['an entitlement without conflict is allowed', () => [vendorCreate], 'allow', () => []],
    ['completing an approve policy with what is held needs approval', () => [prodDeploy], 'approve', () => [approvePolicy]],
    ['both sides of a prevent policy asked at once are prevented', () => [vendorCreate, paymentRelease], 'prevent', () => [preventPolicy]],
    ['prevent outranks approve', () => [prodDeploy, vendorCreate, paymentRelease], 'prevent', () => [preventPolicy, approvePolicy]],
  ])('evaluate-sod over NATS: %s', async (_description, entitlements, outcome, policies) => {
    const answer = await bus.request<EvaluateSodResult>(EVALUATE_SOD_RPC, { identityId: ivy, entitlements: entitlements() });
    expect(answer.outcome).toBe(outcome);
    expect(answer.violations.map((v) => v.policyKey).sort()).toEqual(policies().sort());
  });

  it('evaluate-sod names the held side of the conflict', async () => {
    const answer = await bus.request<EvaluateSodResult>(EVALUATE_SOD_RPC, { identityId: ivy, entitlements: [prodDeploy] });
    expect(answer.violations).toEqual([{ policyKey: approvePolicy, mode: 'approve', severity: 'high', left: [codeMerge], right: [prodDeploy] }]);
  });

  it('evaluate-sod refuses bad input: 400 for a malformed payload, 422 naming unknown keys', async () => {
    const malformed = await bus.request(EVALUATE_SOD_RPC, { identityId: ivy, entitlements: 'prod:deploy' }).catch((e: unknown) => e);
    expect(malformed).toBeInstanceOf(RpcError);
    expect((malformed as RpcError).status).toBe(400);
    const unknownKey = api.key('no:such-entitlement');
    const unknown = await bus.request(EVALUATE_SOD_RPC, { identityId: ivy, entitlements: [prodDeploy, unknownKey] }).catch((e: unknown) => e);
    expect(unknown).toBeInstanceOf(RpcError);
    expect((unknown as RpcError).status).toBe(422);
    expect((unknown as RpcError).message).toContain(unknownKey);
    expect((unknown as RpcError).details).toMatchObject({ keys: [unknownKey] });
  });

  it('refuses an admin grant that would violate a prevent policy with 422 naming the conflicting entitlements', async () => {
    const first = await api.asAdmin('POST', `/access/${ivy}/grant`, { entitlement: vendorCreate, reason: 'vendor onboarding' });
    expect(first.status).toBe(202);
    const refused = await api.asAdmin('POST', `/access/${ivy}/grant`, { entitlement: paymentRelease, reason: 'payment run', exceptionReason: 'an exception lifts no prevent policy' });
    expect(refused.status).toBe(422);
    expect(refused.headers.get('content-type')).toContain('application/problem+json');
    expect(refused.body).toMatchObject({
      type: 'urn:custos:problem:sod-violation',
      conflicts: [{ policyKey: preventPolicy, mode: 'prevent', left: [vendorCreate], right: [paymentRelease] }],
    });
    expect(refused.body.detail).toContain(vendorCreate);
    expect(refused.body.detail).toContain(paymentRelease);
    const grants = await api.grantsWhen(ivy, (g) => g.some((x) => x.entitlement === vendorCreate), 'Ivy’s vendor grant');
    expect(grants.map((g) => g.entitlement)).not.toContain(paymentRelease);
  });

  it('needs an exception reason for an admin grant against an approve policy, and records the exception', async () => {
    const refused = await api.asAdmin('POST', `/access/${ivy}/grant`, { entitlement: prodDeploy, reason: 'release week' });
    expect(refused.status).toBe(422);
    expect(refused.body).toMatchObject({ type: 'urn:custos:problem:sod-exception-required', conflicts: [{ policyKey: approvePolicy, left: [codeMerge], right: [prodDeploy] }] });
    expect(refused.body.detail).toContain(codeMerge);
    expect(refused.body.detail).toContain(prodDeploy);

    const granted = await api.asAdmin('POST', `/access/${ivy}/grant`, { entitlement: prodDeploy, reason: 'release week', exceptionReason: 'sole on-call engineer, CHG-42' });
    expect(granted.status).toBe(202);
    expect(granted.body).toMatchObject({ status: 'granted', sodException: { reason: 'sole on-call engineer, CHG-42', approvedBy: `admin-${api.run}`, conflicts: [{ policyKey: approvePolicy }] } });
    await api.grantsWhen(ivy, (g) => g.some((x) => x.entitlement === prodDeploy), 'Ivy’s deploy grant');
    const recorded = await api.auditEventsWhen(ivy, 'SodExceptionRecorded', (e) => e.length === 1, 'the SoD exception in the audit log');
    expect(recorded[0].data).toMatchObject({ grantId: granted.body.grantId, entitlement: prodDeploy, reason: 'sole on-call engineer, CHG-42' });

    const sod = await api.asAdmin('GET', `/access/${ivy}/sod`);
    expect(sod.status).toBe(200);
    expect(sod.body.violations).toEqual([
      expect.objectContaining({
        policyKey: approvePolicy,
        left: [codeMerge],
        right: [prodDeploy],
        exceptions: [expect.objectContaining({ grantId: granted.body.grantId, reason: 'sole on-call engineer, CHG-42', approvedBy: `admin-${api.run}` })],
      }),
    ]);
  });

  it('lists a violation created by birthright rules, to the identity itself and to admins, not to others', async () => {
    const jon = await api.hire('Jon', { department: api.key('Accounting') });
    await api.grantsWhen(jon, (g) => g.length === 2, 'Jon’s birthright (both sides of a prevent policy)');
    const sod = await api.asAdmin('GET', `/access/${jon}/sod`);
    expect(sod.status).toBe(200);
    expect(sod.body).toEqual({
      identityId: jon,
      violations: [
        expect.objectContaining({
          policyKey: ledgerPolicy,
          mode: 'prevent',
          left: [ledgerPost],
          right: [ledgerApprove],
          grants: expect.arrayContaining([
            expect.objectContaining({ entitlement: ledgerPost, source: 'birthright', ruleKey: api.key('accounting') }),
            expect.objectContaining({ entitlement: ledgerApprove, source: 'birthright', ruleKey: api.key('accounting') }),
          ]),
          exceptions: [],
        }),
      ],
    });
    const self = await api.client.call('GET', `/access/${jon}/sod`, { token: await api.client.token(jon) });
    expect(self.status).toBe(200);
    const other = await api.client.call('GET', `/access/${jon}/sod`, { token: await api.client.token(ivy) });
    expect(other.status).toBe(403);
  });
});
