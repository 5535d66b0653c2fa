import {
  ENTITLEMENT_STREAM_PREFIXES,
  accessStreamId,
  birthrightRuleStreamId,
  entitlementStreamId,
  roleStreamId,
  sodPolicyStreamId,
} from './stream-ids';

describe('stream ids', () => {
  it.each<[string, string, string, string]>([
    ['an entitlement', entitlementStreamId('github:org-admin'), 'entitlement-github:org-admin', ENTITLEMENT_STREAM_PREFIXES.entitlement],
    ['a role', roleStreamId('engineer'), 'role-engineer', ENTITLEMENT_STREAM_PREFIXES.role],
    ['a birthright rule', birthrightRuleStreamId('engineering-staff'), 'birthright-rule-engineering-staff', ENTITLEMENT_STREAM_PREFIXES.birthrightRule],
    ['a SoD policy', sodPolicyStreamId('pay-vs-approve'), 'sod-policy-pay-vs-approve', ENTITLEMENT_STREAM_PREFIXES.sodPolicy],
    ['an identity access', accessStreamId('7f3c'), 'access-7f3c', ENTITLEMENT_STREAM_PREFIXES.access],
  ])('names the stream of %s, under its category prefix', (_description, id, expected, prefix) => {
    expect(id).toBe(expected);
    expect(id.startsWith(prefix)).toBe(true);
  });
});
