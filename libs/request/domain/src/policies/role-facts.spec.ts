import { roleFacts, type EntitlementFacts } from './role-facts';

const NOW = '2026-03-02T09:00:00.000Z';
const manager = { kind: 'manager' as const, required: 1 };
const owner = { kind: 'owner' as const, required: 1 };
const security = { kind: 'security' as const, required: 1 };
const facts = (key: string, extra: Partial<EntitlementFacts> = {}): EntitlementFacts => ({ key, privileged: false, approvalPolicy: { steps: [manager, owner] }, ...extra });

describe('roleFacts: a role is decided as strictly as its strictest entitlement', () => {
  it.each<[string, EntitlementFacts[], string[], Partial<ReturnType<typeof roleFacts>>]>([
    ['privileged when any entitlement is', [facts('a'), facts('b', { privileged: true })], [], { privileged: true }],
    ['not privileged when none is', [facts('a'), facts('b')], [], { privileged: false }],
    ['capped by the shortest maxDuration (compared as durations, not text)', [facts('a', { maxDuration: 'PT90M' }), facts('b', { maxDuration: 'PT2H' }), facts('c')], [], { maxDuration: 'PT90M' }],
    ['without a cap when none has one', [facts('a'), facts('b')], [], { maxDuration: undefined }],
    ['escalating after the shortest approval SLA', [facts('a', { approvalSla: 'P1D' }), facts('b', { approvalSla: 'PT4H' })], [], { approvalSla: 'PT4H' }],
    ['routed through every kind of step, in the order first met', [facts('a', { approvalPolicy: { steps: [manager] } }), facts('b', { approvalPolicy: { steps: [security, owner] } })], [], {
      approvalPolicy: { steps: [manager, security, owner] },
    }],
    ['each step requiring the most any policy requires', [facts('a', { approvalPolicy: { steps: [{ kind: 'manager', required: 1 }] } }), facts('b', { approvalPolicy: { steps: [{ kind: 'manager', required: 2 }] } })], [], {
      approvalPolicy: { steps: [{ kind: 'manager', required: 2 }] },
    }],
    ['a group step per distinct group, the same group once', [
      facts('a', { approvalPolicy: { steps: [{ kind: 'group', approverIds: ['g1', 'g2'], required: 1 }] } }),
      facts('b', { approvalPolicy: { steps: [{ kind: 'group', approverIds: ['g2', 'g1'], required: 2 }] } }),
      facts('c', { approvalPolicy: { steps: [{ kind: 'group', approverIds: ['g3'], required: 1 }] } }),
    ], [], {
      approvalPolicy: { steps: [{ kind: 'group', approverIds: ['g1', 'g2'], required: 2 }, { kind: 'group', approverIds: ['g3'], required: 1 }] },
    }],
    ['an owner step requiring every distinct owner who can still decide', [facts('a', { ownerId: 'o1' }), facts('b', { ownerId: 'o2' }), facts('c', { ownerId: 'o1' }), facts('d', { ownerId: 'o3' })], ['o3'], {
      owners: ['o1', 'o2', 'o3'],
      approvalPolicy: { steps: [manager, { kind: 'owner', required: 2 }] },
    }],
  ])('%s', (_description, entitlements, inactive, expected) => {
    const result = roleFacts(entitlements, inactive, NOW);
    for (const [field, value] of Object.entries(expected)) expect(result[field as keyof typeof result]).toEqual(value);
  });

  it('leaves the entitlements\' policies as they were', () => {
    const a = facts('a', { approvalPolicy: { steps: [{ kind: 'manager', required: 1 }] } });
    roleFacts([a, facts('b', { approvalPolicy: { steps: [{ kind: 'manager', required: 3 }] } })], [], NOW);
    expect(a.approvalPolicy.steps).toEqual([{ kind: 'manager', required: 1 }]);
  });
});
