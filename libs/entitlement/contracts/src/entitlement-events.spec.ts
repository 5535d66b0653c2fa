import { applyEntitlementChanges, type EntitlementChanges } from './entitlement-events';

describe('applyEntitlementChanges (what an EntitlementChanged does, for every reader)', () => {
  const definition = { key: 'pg:prod-root', name: 'Root', privileged: true, ownerId: 'ada', maxDuration: 'PT1H' };

  it('sets each field given, clears one given as null, and leaves the rest', () => {
    expect(applyEntitlementChanges(definition, { name: 'Prod root', ownerId: null })).toEqual({ key: 'pg:prod-root', name: 'Prod root', privileged: true, maxDuration: 'PT1H' });
    expect(definition.name).toBe('Root');
  });

  it('never writes a name that reaches a prototype', () => {
    const hostile = JSON.parse('{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}},"name":"x"}') as EntitlementChanges;
    const next = applyEntitlementChanges(definition, hostile) as Record<string, unknown>;
    expect(next.name).toBe('x');
    expect(Object.getPrototypeOf(next)).toBe(Object.prototype);
    expect(Object.hasOwn(next, 'constructor')).toBe(false);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
