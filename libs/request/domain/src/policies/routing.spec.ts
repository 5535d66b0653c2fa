import type { ApprovalPolicy, RoutedStep, SodEvaluation } from '@custos/request/contracts';
import { NoEligibleApprovers, SodViolation, ValidationFailed } from '../errors';
import { ADA, CYD, GROUP, MANAGER, OWNER, SEC1, SEC2, SECURITY, approveConflict, preventConflict } from '../testing/builders';
import { routeApproval, type ResolvedApprovers } from './routing';

const allow: SodEvaluation = { outcome: 'allow', violations: [] };
const everyone: ResolvedApprovers = { manager: [MANAGER], owner: [OWNER], security: SECURITY };
const route = (steps: ApprovalPolicy['steps'], approvers: Partial<ResolvedApprovers> = {}, sod: SodEvaluation = allow, requesterId = ADA) =>
  routeApproval({ policy: { steps }, approvers: { ...everyone, ...approvers }, sod, requesterId, beneficiaryId: ADA });

/** Routing turns an entitlement's approval policy and the resolved approvers into a request's steps. */
describe('routeApproval', () => {
  it.each<[string, ApprovalPolicy['steps'], Partial<ResolvedApprovers>, RoutedStep[]]>([
    ['keeps the policy\'s order and each step\'s N', [{ kind: 'manager', required: 1 }, { kind: 'group', approverIds: GROUP, required: 2 }, { kind: 'security', required: 2 }], {}, [
      { kind: 'manager', approverIds: [MANAGER], required: 1 },
      { kind: 'group', approverIds: GROUP, required: 2 },
      { kind: 'security', approverIds: SECURITY, required: 2 },
    ]],
    ['routes a manager step without a manager to security', [{ kind: 'manager', required: 1 }], { manager: [] }, [{ kind: 'security', approverIds: SECURITY, required: 1, routedFrom: 'manager' }]],
    ['routes an owner step whose owner left (inactive) to security', [{ kind: 'owner', required: 1 }], { inactive: [OWNER] }, [{ kind: 'security', approverIds: SECURITY, required: 1, routedFrom: 'owner' }]],
    ['routes a group step left with fewer members than it requires to security, requiring at most the security approvers there are', [{ kind: 'group', approverIds: [ADA, 'id-g1'], required: 2 }, { kind: 'owner', required: 1 }], {}, [
      { kind: 'security', approverIds: SECURITY, required: 2, routedFrom: 'group' },
      { kind: 'owner', approverIds: [OWNER], required: 1 },
    ]],
    ['leaves the beneficiary out of the security step when they hold custos:security', [{ kind: 'security', required: 1 }], { security: [ADA, SEC1] }, [{ kind: 'security', approverIds: [SEC1], required: 1 }]],
    ['names each approver once', [{ kind: 'group', approverIds: ['id-g1', 'id-g1', 'id-g2'], required: 1 }], {}, [{ kind: 'group', approverIds: ['id-g1', 'id-g2'], required: 1 }]],
  ])('%s', (_description, steps, approvers, expected) => {
    expect(route(steps, approvers)).toEqual(expected);
  });

  it('leaves the requester out too, when they ask for someone else', () => {
    expect(route([{ kind: 'group', approverIds: [CYD, 'id-g1'], required: 1 }], {}, allow, CYD)).toEqual([{ kind: 'group', approverIds: ['id-g1'], required: 1 }]);
  });

  it('refuses SoD prevent, naming the conflicting entitlements', () => {
    expect(() => route([{ kind: 'manager', required: 1 }], {}, { outcome: 'prevent', violations: [approveConflict, preventConflict] })).toThrow(SodViolation);
    try {
      route([{ kind: 'manager', required: 1 }], {}, { outcome: 'prevent', violations: [approveConflict, preventConflict] });
    } catch (error) {
      expect(error).toMatchObject({ code: 'sod-violation', conflicts: [preventConflict], entitlements: ['erp:vendor-create', 'erp:payment-approve'] });
    }
  });

  it('has the policy\'s own security step accept SoD approve conflicts', () => {
    expect(route([{ kind: 'security', required: 1 }, { kind: 'owner', required: 1 }], {}, { outcome: 'approve', violations: [approveConflict] })).toEqual([
      { kind: 'security', approverIds: SECURITY, required: 1, sodConflicts: [approveConflict] },
      { kind: 'owner', approverIds: [OWNER], required: 1 },
    ]);
  });

  it('adds a security step accepting SoD approve conflicts when the policy has none of its own (a routed one does not count)', () => {
    expect(route([{ kind: 'manager', required: 1 }], { manager: [] }, { outcome: 'approve', violations: [approveConflict] })).toEqual([
      { kind: 'security', approverIds: SECURITY, required: 1, routedFrom: 'manager' },
      { kind: 'security', approverIds: SECURITY, required: 1, sodConflicts: [approveConflict] },
    ]);
  });

  it.each<[string, ApprovalPolicy['steps'], Partial<ResolvedApprovers>]>([
    ['an empty step when there is no security approver either', [{ kind: 'owner', required: 1 }], { owner: [], security: [] }],
    ['a security step with fewer security approvers than it requires', [{ kind: 'security', required: 3 }], { security: [SEC1, SEC2] }],
  ])('cannot route %s (422)', (_description, steps, approvers) => {
    expect(() => route(steps, approvers)).toThrow(NoEligibleApprovers);
  });

  it('refuses a policy without steps', () => {
    expect(() => route([])).toThrow(ValidationFailed);
  });
});
