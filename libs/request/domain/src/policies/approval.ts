import type { Decision, Delegation, RoutedStep } from '@custos/request/contracts';
import { instantOf } from '../shared/time';

/** A decision as the fold of a round keeps it. */
export interface StepDecision {
  step: number;
  approverId: string;
  onBehalfOf?: string;
  decision: Decision;
  exceptionJustification?: string;
}

/** Where a round stands, recomputed from its steps and decisions: steps in order, a deny ends it, the last step complete approves it. */
export type RoundOutcome = { status: 'pending'; step: number } | { status: 'approved' } | { status: 'denied'; step: number; deniedBy: string };

/** principalOf: whose approval a decision is (the delegator's, when it was made through a delegation). */
export function principalOf(decision: Pick<StepDecision, 'approverId' | 'onBehalfOf'>): string {
  return decision.onBehalfOf ?? decision.approverId;
}

/**
 * roundOutcome: folds the decisions against the steps (as Teleport folds reviews against
 * thresholds): each step in order is denied by any deny, complete once `required` distinct
 * principals approved it; the first incomplete step is the pending one.
 */
export function roundOutcome(steps: readonly RoutedStep[], decisions: readonly StepDecision[]): RoundOutcome {
  for (let step = 0; step < steps.length; step++) {
    const ofStep = decisions.filter((decision) => decision.step === step);
    const deny = ofStep.find((decision) => decision.decision === 'deny');
    if (deny) return { status: 'denied', step, deniedBy: deny.approverId };
    const approvals = new Set(ofStep.filter((decision) => decision.decision === 'approve').map(principalOf)).size;
    if (approvals < steps[step].required) return { status: 'pending', step };
  }
  return { status: 'approved' };
}

/** delegationInForce: a delegation counts from its `from` (inclusive) until its `until` (exclusive). */
export function delegationInForce(delegation: Pick<Delegation, 'from' | 'until'>, at: string): boolean {
  const now = instantOf(at, 'now');
  return instantOf(delegation.from, 'from') <= now && now < instantOf(delegation.until, 'until');
}

/** Who may take part: the request's parties, the current step's approvers (escalation targets included), and the delegations of the deciding identity. */
export interface AuthorityInput {
  approverId: string;
  /** The requester and the beneficiary: they never decide. */
  parties: readonly string[];
  eligible: readonly string[];
  /** Delegations naming `approverId` as delegate (others are ignored); only those in force at `now` count. */
  delegations: readonly Delegation[];
  now: string;
}

/** The capacities in which an identity may decide the current step, or why it may not. */
export type Authority =
  | { allowed: true; capacities: Array<{ onBehalfOf?: string }> }
  | { allowed: false; reason: 'self-approval' | 'not-eligible-approver'; onBehalfOf?: string };

/**
 * decisionAuthority: nobody who raised the request or benefits from it decides it, not directly,
 * not as a delegate and not in the place of a delegator who did (a group step is no way around
 * it either: routing left them out, and this refuses them first). Anyone else decides as an
 * eligible approver of the current step, or in the place of one who delegated to them for now.
 */
export function decisionAuthority(input: AuthorityInput): Authority {
  const { approverId, parties, eligible, now } = input;
  if (parties.includes(approverId)) return { allowed: false, reason: 'self-approval' };
  const delegators = input.delegations.filter((d) => d.delegateId === approverId && delegationInForce(d, now)).map((d) => d.approverId);
  const capacities: Array<{ onBehalfOf?: string }> = [
    ...(eligible.includes(approverId) ? [{}] : []),
    ...delegators.filter((id) => eligible.includes(id) && !parties.includes(id) && id !== approverId).map((onBehalfOf) => ({ onBehalfOf })),
  ];
  if (capacities.length > 0) return { allowed: true, capacities };
  const throughParty = delegators.find((id) => parties.includes(id));
  if (throughParty !== undefined) return { allowed: false, reason: 'self-approval', onBehalfOf: throughParty };
  return { allowed: false, reason: 'not-eligible-approver' };
}

/** hasStepUp: the login used a second factor. */
export function hasStepUp(amr: readonly string[] | undefined): boolean {
  return Array.isArray(amr) && amr.includes('mfa');
}
