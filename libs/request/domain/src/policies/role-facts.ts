import type { ApprovalPolicy, ApprovalPolicyStep } from '@custos/request/contracts';
import { unique } from '../shared/time';
import { exceedsDuration } from './duration';

/** What routing and capping need of one catalog entitlement. */
export interface EntitlementFacts {
  key: string;
  privileged: boolean;
  maxDuration?: string;
  approvalSla?: string;
  approvalPolicy: ApprovalPolicy;
  ownerId?: string;
}

/** What a request for a whole role is decided by: its entitlements' facts taken together. */
export interface RoleFacts {
  privileged: boolean;
  maxDuration?: string;
  approvalSla?: string;
  approvalPolicy: ApprovalPolicy;
  /** The owners of its entitlements, each once. */
  owners: string[];
}

/**
 * roleFacts: a role is asked for as a whole, so it is decided as strictly as the strictest of its
 * entitlements: privileged if any is; capped by the shortest maxDuration and escalating after the
 * shortest approval SLA; routed through every step kind any of their policies has, in the order
 * first met, each requiring the most any of them requires (a group step per distinct group), and
 * an owner step requiring every owner who can still decide (`inactive` left out): each approves
 * the access to what they own.
 */
export function roleFacts(entitlements: readonly EntitlementFacts[], inactive: readonly string[], now: string): RoleFacts {
  const shortest = (durations: Array<string | undefined>): string | undefined =>
    durations.filter((d): d is string => d !== undefined).reduce<string | undefined>((best, d) => (best === undefined || exceedsDuration(now, best, d) ? d : best), undefined);
  const steps: ApprovalPolicyStep[] = [];
  for (const entitlement of entitlements) {
    for (const step of entitlement.approvalPolicy.steps) {
      const same = steps.find((candidate) => candidate.kind === step.kind && (step.kind !== 'group' || sameMembers(candidate.approverIds, step.approverIds)));
      if (same) same.required = Math.max(same.required, step.required);
      else steps.push({ kind: step.kind, ...(step.approverIds !== undefined && { approverIds: [...step.approverIds] }), required: step.required });
    }
  }
  const owners = unique(entitlements.flatMap((entitlement) => (entitlement.ownerId !== undefined ? [entitlement.ownerId] : [])));
  const ownerStep = steps.find((step) => step.kind === 'owner');
  if (ownerStep) ownerStep.required = Math.max(ownerStep.required, owners.filter((owner) => !inactive.includes(owner)).length);
  const maxDuration = shortest(entitlements.map((entitlement) => entitlement.maxDuration));
  const approvalSla = shortest(entitlements.map((entitlement) => entitlement.approvalSla));
  return {
    privileged: entitlements.some((entitlement) => entitlement.privileged),
    ...(maxDuration !== undefined && { maxDuration }),
    ...(approvalSla !== undefined && { approvalSla }),
    approvalPolicy: { steps },
    owners,
  };
}

function sameMembers(a: readonly string[] | undefined, b: readonly string[] | undefined): boolean {
  const left = new Set(a ?? []);
  const right = new Set(b ?? []);
  return left.size === right.size && [...left].every((id) => right.has(id));
}
