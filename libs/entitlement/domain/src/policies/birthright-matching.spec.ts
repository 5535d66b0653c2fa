import type { BirthrightWhen } from '@custos/entitlement/contracts';
import { birthrightAccess, matchesRule, type BirthrightRuleView, type IdentityAttributes } from './birthright-policy';
import type { RoleCatalog } from './role-expansion';

const ada: IdentityAttributes = {
  department: 'Engineering',
  title: 'Engineer',
  location: 'London',
  employmentType: 'employee',
  costCenter: 'CC-10',
  groups: ['vpn-users', 'oncall'],
};

describe('matchesRule', () => {
  it.each<[string, IdentityAttributes, BirthrightWhen, boolean]>([
    ['{ all: true } matches anyone', {}, { all: true }, true],
    ['an equal department matches', ada, { department: 'Engineering' }, true],
    ['a different department does not match', ada, { department: 'Sales' }, false],
    ['values compare case-insensitively', ada, { department: 'engineering' }, true],
    ['values compare trimmed', { department: ' Engineering ' }, { department: 'Engineering' }, true],
    ['a missing attribute never matches', { title: 'Engineer' }, { department: 'Engineering' }, false],
    ['every condition must hold: all hold', ada, { department: 'Engineering', location: 'London', employmentType: 'employee' }, true],
    ['every condition must hold: one fails', ada, { department: 'Engineering', location: 'Paris' }, false],
    ['an in-list matches any listed value', ada, { location: { in: ['Paris', 'London'] } }, true],
    ['an in-list without the value does not match', ada, { location: { in: ['Paris', 'Berlin'] } }, false],
    ['a cost center matches', ada, { costCenter: 'CC-10' }, true],
    ['a title matches', ada, { title: 'Engineer' }, true],
    ['a contractor does not match an employee rule', { ...ada, employmentType: 'contractor' }, { employmentType: 'employee' }, false],
    ['a single group matches when held', ada, { groups: 'oncall' }, true],
    ['a single group does not match when not held', ada, { groups: 'admins' }, false],
    ['a group in-list matches when any is held', ada, { groups: { in: ['admins', 'vpn-users'] } }, true],
    ['a group in-list does not match when none is held', ada, { groups: { in: ['admins', 'auditors'] } }, false],
    ['a group condition does not match an identity without groups', { department: 'Engineering' }, { groups: 'oncall' }, false],
    ['an empty condition object matches nobody', ada, {}, false],
  ])('%s', (_description, identity, when, expected) => {
    expect(matchesRule(identity, when)).toBe(expected);
  });
});

describe('birthrightAccess', () => {
  const roles: RoleCatalog = {
    employee: { entitlements: ['slack:member', 'email:user'], roles: [] },
    engineer: { entitlements: ['github:member'], roles: ['employee'] },
    oncall: { entitlements: ['pagerduty:responder', 'github:member'], roles: [] },
  };
  const rules: BirthrightRuleView[] = [
    { key: 'everyone', when: { all: true }, roles: ['employee'] },
    { key: 'engineering-staff', when: { department: 'Engineering' }, roles: ['engineer', 'engineer'] },
    { key: 'oncall', when: { groups: 'oncall' }, roles: ['oncall'] },
    { key: 'sales', when: { department: 'Sales' }, roles: ['employee'] },
  ];

  it('gives every entitlement of the matched rules, attributed to the directly granted role, each triple once', () => {
    expect(birthrightAccess(ada, rules, roles)).toEqual([
      { entitlement: 'slack:member', role: 'employee', ruleKey: 'everyone' },
      { entitlement: 'email:user', role: 'employee', ruleKey: 'everyone' },
      { entitlement: 'github:member', role: 'engineer', ruleKey: 'engineering-staff' },
      { entitlement: 'slack:member', role: 'engineer', ruleKey: 'engineering-staff' },
      { entitlement: 'email:user', role: 'engineer', ruleKey: 'engineering-staff' },
      { entitlement: 'pagerduty:responder', role: 'oncall', ruleKey: 'oncall' },
      { entitlement: 'github:member', role: 'oncall', ruleKey: 'oncall' },
    ]);
  });

  it('gives nothing when no rule matches', () => {
    expect(birthrightAccess({ department: 'Sales' }, rules.slice(1, 3), roles)).toEqual([]);
  });

  it('gives nothing for a rule whose role is unknown', () => {
    expect(birthrightAccess(ada, [{ key: 'r', when: { all: true }, roles: ['ghost'] }], roles)).toEqual([]);
  });
});
