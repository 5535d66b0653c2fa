import type { ApprovalPolicy, ApproverKind } from '@custos/entitlement/contracts';
import type { FieldError } from '../errors';

const APPROVER_KINDS: readonly ApproverKind[] = ['manager', 'owner', 'security', 'group'];

/** defaultApprovalPolicy: the manager, then the entitlement owner, then security when privileged; one approval each. */
export function defaultApprovalPolicy(privileged: boolean): ApprovalPolicy {
  const steps: ApprovalPolicy['steps'] = [
    { kind: 'manager', required: 1 },
    { kind: 'owner', required: 1 },
  ];
  if (privileged) steps.push({ kind: 'security', required: 1 });
  return { steps };
}

/**
 * approvalPolicyErrors: a policy has at least one step; each step needs at least one approval
 * (a whole number), a `group` step names its approvers and cannot require more approvals than
 * it names, and a privileged entitlement always keeps a `security` step.
 */
export function approvalPolicyErrors(policy: ApprovalPolicy, privileged: boolean): FieldError[] {
  const errors: FieldError[] = [];
  if (!Array.isArray(policy.steps) || policy.steps.length === 0) {
    return [{ field: 'approvalPolicy.steps', message: 'needs at least one step' }];
  }
  policy.steps.forEach((step, index) => {
    const field = `approvalPolicy.steps[${index}]`;
    if (!APPROVER_KINDS.includes(step.kind)) errors.push({ field: `${field}.kind`, message: `must be one of ${APPROVER_KINDS.join(', ')}` });
    if (!Number.isInteger(step.required) || step.required < 1) {
      errors.push({ field: `${field}.required`, message: 'must be a whole number of at least 1' });
    }
    if (step.kind === 'group' && !(step.approverIds && step.approverIds.length > 0)) {
      errors.push({ field: `${field}.approverIds`, message: 'a group step names its approvers' });
    }
    if (step.approverIds && step.approverIds.length > 0 && step.required > new Set(step.approverIds).size) {
      errors.push({ field: `${field}.required`, message: `requires ${step.required} approvals but names ${new Set(step.approverIds).size} approvers` });
    }
  });
  if (privileged && !policy.steps.some((step) => step.kind === 'security')) {
    errors.push({ field: 'approvalPolicy.steps', message: 'a privileged entitlement needs a security step' });
  }
  return errors;
}
