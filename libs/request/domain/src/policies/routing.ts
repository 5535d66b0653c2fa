import type { ApprovalPolicy, ApproverKind, RoutedStep, SodConflict, SodEvaluation } from '@custos/request/contracts';
import { NoEligibleApprovers, SodViolation, ValidationFailed } from '../errors';
import { unique } from '../shared/time';

/**
 * The approvers the application resolved for one request, as identity ids. A `group` step's
 * approvers are listed on the policy itself.
 */
export interface ResolvedApprovers {
  /** The beneficiary's manager (from the identity context); empty when they have none. */
  manager: readonly string[];
  /** The entitlement's owner while active; empty when there is none or they left. */
  owner: readonly string[];
  /** The active holders of `custos:security` (SECURITY_ENTITLEMENT). */
  security: readonly string[];
  /** Identities that can no longer decide (left, suspended): removed from every step, group steps included. */
  inactive?: readonly string[];
}

export interface RoutingInput {
  policy: ApprovalPolicy;
  approvers: ResolvedApprovers;
  /** What `rpc.entitlement.evaluate-sod` answered for the beneficiary and the requested entitlements. */
  sod: SodEvaluation;
  requesterId: string;
  beneficiaryId: string;
}

/**
 * routeApproval: the steps of a request, in the policy's order, each with its approvers resolved.
 *
 * - Nobody decides a request they raised or that benefits them: the requester and the beneficiary
 *   are left out of every step (so are inactive identities).
 * - A step left with fewer approvers than it requires (none at all: no manager, the owner left)
 *   is routed to security in its place, never skipped: its approvers become the security
 *   approvers, `routedFrom` names the policy's kind, and it requires what it did, at most as many
 *   as there are security approvers. Without any security approver the request cannot be routed
 *   (NoEligibleApprovers).
 * - SoD `prevent` refuses the request (SodViolation naming the conflicting entitlements); SoD
 *   `approve` makes the policy's last own security step accept the conflicts (each of its
 *   approvals then carries an exception justification), or adds such a step at the end.
 */
export function routeApproval(input: RoutingInput): RoutedStep[] {
  const { policy, approvers, sod } = input;
  if (!policy || !Array.isArray(policy.steps) || policy.steps.length === 0) {
    throw new ValidationFailed([{ field: 'approvalPolicy.steps', message: 'needs at least one step' }]);
  }
  const prevented = sod.violations.filter((violation) => violation.mode === 'prevent');
  if (sod.outcome === 'prevent') throw new SodViolation(prevented.length > 0 ? prevented : sod.violations);

  const excluded = new Set([input.requesterId, input.beneficiaryId, ...(approvers.inactive ?? [])]);
  const eligible = (ids: readonly string[] | undefined) => unique(ids ?? []).filter((id) => !excluded.has(id));
  const security = eligible(approvers.security);
  const toSecurity = (index: number, kind: ApproverKind, required: number): RoutedStep => {
    if (security.length === 0 || kind === 'security') throw new NoEligibleApprovers(index, kind, required);
    return { kind: 'security', approverIds: security, required: Math.min(required, security.length), routedFrom: kind };
  };

  const steps = policy.steps.map((step, index): RoutedStep => {
    const candidates = eligible(step.kind === 'group' ? step.approverIds : approvers[step.kind]);
    return candidates.length >= step.required ? { kind: step.kind, approverIds: candidates, required: step.required } : toSecurity(index, step.kind, step.required);
  });

  const accepted: SodConflict[] = sod.outcome === 'approve' ? sod.violations.filter((violation) => violation.mode === 'approve') : [];
  if (accepted.length === 0) return steps;
  const ownSecurity = steps.map((step, index) => ({ step, index })).filter(({ step }) => step.kind === 'security' && step.routedFrom === undefined);
  if (ownSecurity.length > 0) {
    const last = ownSecurity[ownSecurity.length - 1].index;
    return steps.map((step, index) => (index === last ? { ...step, sodConflicts: accepted } : step));
  }
  if (security.length === 0) throw new NoEligibleApprovers(steps.length, 'security', 1);
  return [...steps, { kind: 'security', approverIds: security, required: 1, sodConflicts: accepted }];
}
