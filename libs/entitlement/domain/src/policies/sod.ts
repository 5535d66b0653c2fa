import type { SodConflict, SodPolicyDefinition } from '@custos/entitlement/contracts';

export type SodPolicyView = Pick<SodPolicyDefinition, 'key' | 'conflicting' | 'mode' | 'severity'>;

/** `prevent` when any new conflict is of a prevent policy, else `approve` when any is, else `allow`. */
export interface SodEvaluation {
  outcome: 'allow' | 'approve' | 'prevent';
  violations: SodConflict[];
}

/**
 * sodViolations: holding any entitlement of a policy's first set together with any of its
 * second set violates it; each violation lists the held keys on both sides.
 */
export function sodViolations(heldEntitlementKeys: Iterable<string>, policies: readonly SodPolicyView[]): SodConflict[] {
  const held = new Set(heldEntitlementKeys);
  return policies.flatMap((policy) => {
    const left = policy.conflicting[0].filter((key) => held.has(key));
    const right = policy.conflicting[1].filter((key) => held.has(key));
    return left.length > 0 && right.length > 0
      ? [{ policyKey: policy.key, mode: policy.mode, severity: policy.severity, left, right }]
      : [];
  });
}

/**
 * evaluateSod: the violations that adding `proposedAdditions` to `currentlyHeld` would create:
 * those involving at least one entitlement not already held (a conflict that exists already is
 * not the addition's doing); `prevent` outranks `approve`.
 */
export function evaluateSod(
  currentlyHeld: Iterable<string>,
  proposedAdditions: Iterable<string>,
  policies: readonly SodPolicyView[],
): SodEvaluation {
  const held = new Set(currentlyHeld);
  const added = [...proposedAdditions].filter((key) => !held.has(key));
  const violations = sodViolations([...held, ...added], policies).filter((violation) =>
    [...violation.left, ...violation.right].some((key) => added.includes(key)),
  );
  const outcome = violations.some((v) => v.mode === 'prevent') ? 'prevent' : violations.length > 0 ? 'approve' : 'allow';
  return { outcome, violations };
}
