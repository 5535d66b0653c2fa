import type { BirthrightRuleView } from './birthright-policy';
import { previewBirthrightChange, previewRoleChange, type IdentityProfile } from './preview';
import type { RoleCatalog } from './role-expansion';

const identities: IdentityProfile[] = [
  { identityId: 'id-ada', department: 'Engineering', location: 'London' },
  { identityId: 'id-bob', department: 'Engineering', location: 'Paris' },
  { identityId: 'id-cy', department: 'Sales', location: 'London' },
];
const roles: RoleCatalog = {
  engineer: { entitlements: ['github:member'], roles: [] },
  platform: { entitlements: ['github:member', 'aws:read'], roles: [] },
  sales: { entitlements: ['crm:user'], roles: [] },
};
const engineering: BirthrightRuleView = { key: 'engineering-staff', when: { department: 'Engineering' }, roles: ['engineer'] };
const sales: BirthrightRuleView = { key: 'sales-staff', when: { department: 'Sales' }, roles: ['sales'] };

describe('previewBirthrightChange', () => {
  it('lists who gains and who loses when a rule narrows to one location', () => {
    const narrowed = { ...engineering, when: { department: 'Engineering', location: 'London' } };
    expect(previewBirthrightChange(identities, [engineering, sales], [narrowed, sales], roles)).toEqual([
      {
        identityId: 'id-bob',
        gains: [],
        losses: [{ entitlement: 'github:member', role: 'engineer', ruleKey: 'engineering-staff' }],
        entitlementsGained: [],
        entitlementsLost: ['github:member'],
      },
    ]);
  });

  it('lists gains of a new rule for everyone, and an entitlement kept through another rule as not lost', () => {
    const everyone: BirthrightRuleView = { key: 'everyone', when: { all: true }, roles: ['platform'] };
    expect(previewBirthrightChange(identities, [engineering], [engineering, everyone], roles)).toEqual([
      {
        identityId: 'id-ada',
        gains: [
          { entitlement: 'github:member', role: 'platform', ruleKey: 'everyone' },
          { entitlement: 'aws:read', role: 'platform', ruleKey: 'everyone' },
        ],
        losses: [],
        entitlementsGained: ['aws:read'],
        entitlementsLost: [],
      },
      expect.objectContaining({ identityId: 'id-bob', entitlementsGained: ['aws:read'] }),
      expect.objectContaining({ identityId: 'id-cy', entitlementsGained: ['github:member', 'aws:read'] }),
    ]);
  });

  it('is empty when nothing changes', () => {
    expect(previewBirthrightChange(identities, [engineering, sales], [sales, engineering], roles)).toEqual([]);
  });
});

describe('previewRoleChange', () => {
  it('lists the identities whose rules grant the changed role', () => {
    const after = { ...roles, engineer: { entitlements: ['github:member', 'jira:user'], roles: [] } };
    expect(previewRoleChange(identities, [engineering, sales], roles, after)).toEqual([
      { identityId: 'id-ada', gains: [{ entitlement: 'jira:user', role: 'engineer', ruleKey: 'engineering-staff' }], losses: [], entitlementsGained: ['jira:user'], entitlementsLost: [] },
      { identityId: 'id-bob', gains: [{ entitlement: 'jira:user', role: 'engineer', ruleKey: 'engineering-staff' }], losses: [], entitlementsGained: ['jira:user'], entitlementsLost: [] },
    ]);
  });

  it('follows child roles: a change to a child role reaches holders of the parent', () => {
    const before = { ...roles, engineer: { entitlements: [], roles: ['platform'] } };
    const after = { ...before, platform: { entitlements: ['github:member'], roles: [] } };
    expect(previewRoleChange(identities, [engineering], before, after)).toEqual([
      expect.objectContaining({ identityId: 'id-ada', losses: [{ entitlement: 'aws:read', role: 'engineer', ruleKey: 'engineering-staff' }], entitlementsLost: ['aws:read'] }),
      expect.objectContaining({ identityId: 'id-bob', entitlementsLost: ['aws:read'] }),
    ]);
  });

  it('is empty when the role gives the same entitlements', () => {
    expect(previewRoleChange(identities, [engineering], roles, { ...roles })).toEqual([]);
  });
});
