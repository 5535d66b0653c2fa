import { expandRole, type RoleCatalog } from './role-expansion';

describe('expandRole', () => {
  const roles: RoleCatalog = {
    employee: { entitlements: ['slack:member'], roles: [] },
    engineer: { entitlements: ['github:member'], roles: ['employee'] },
    sre: { entitlements: ['aws:admin', 'github:member'], roles: ['engineer', 'employee'] },
    loopA: { entitlements: ['a'], roles: ['loopB'] },
    loopB: { entitlements: ['b'], roles: ['loopA'] },
  };

  it.each<[string, string, string[]]>([
    ['a role without children gives its own entitlements', 'employee', ['slack:member']],
    ['a role gives its child roles entitlements too', 'engineer', ['github:member', 'slack:member']],
    ['a key reached twice is listed once', 'sre', ['aws:admin', 'github:member', 'slack:member']],
    ['a cycle ends the walk', 'loopA', ['a', 'b']],
    ['an unknown role gives nothing', 'ghost', []],
    ['a key named like an Object property gives nothing', 'toString', []],
  ])('%s', (_description, role, expected) => {
    expect(expandRole(role, roles)).toEqual(expected);
  });
});
