import type { SodConflict } from '@custos/entitlement/contracts';
import { DomainError } from '@custos/platform/domain';

/*
 * The entitlement context's broken rules. Each names its code (DomainError); the HTTP status of
 * each code is declared at the edge (libs/entitlement/api, `ENTITLEMENT_ERROR_STATUSES`), which
 * puts each error's own fields into the problem details, so every error carries the data the
 * answer should name (`keys`, `path`, `conflicts`, `errors` per field...).
 */

export type CatalogKind = 'entitlement' | 'role' | 'birthright-rule' | 'sod-policy';
export type ReferenceKind = 'entitlement' | 'role';

/** The kit's validation error (one entry per bad field), among this context's errors. */
export { ValidationFailed, type FieldError } from '@custos/platform/domain';

/**
 * Referenced keys do not exist. `kind` and `keys` describe the first kind with unknown
 * keys; `references` lists every kind (a role may name unknown entitlements and unknown roles).
 */
export class UnknownReference extends DomainError {
  static readonly code = 'unknown-reference';
  readonly kind: ReferenceKind;
  readonly keys: string[];

  constructor(readonly references: Array<{ kind: ReferenceKind; keys: string[] }>) {
    super(references.map((r) => `unknown ${r.kind} ${r.keys.length === 1 ? 'key' : 'keys'}: ${r.keys.join(', ')}`).join('; '));
    this.kind = references[0].kind;
    this.keys = references.flatMap((r) => r.keys);
  }
}

/** The key is taken (keys are never reused, not even after retirement). */
export class AlreadyDefined extends DomainError {
  static readonly code = 'already-defined';

  constructor(readonly kind: CatalogKind, readonly key: string) {
    super(`${kind} ${key} is already defined`);
  }
}

/** Nothing is defined under the key. */
export class NotDefined extends DomainError {
  static readonly code = 'not-defined';

  constructor(readonly kind: CatalogKind, readonly key: string) {
    super(`${kind} ${key} is not defined`);
  }
}

/** The entitlement is retired and can no longer change. */
export class Retired extends DomainError {
  static readonly code = 'retired';

  constructor(readonly kind: CatalogKind, readonly key: string) {
    super(`${kind} ${key} is retired`);
  }
}

/** The role would contain itself; `path` runs from the role back to it (`[a, b, a]`). */
export class RoleCycle extends DomainError {
  static readonly code = 'role-cycle';

  constructor(readonly path: string[]) {
    super(`role cycle: ${path.join(' -> ')}`);
  }
}

/** A birthright rule must state at least one condition, or `{ all: true }`. */
export class RuleWithoutConditions extends DomainError {
  static readonly code = 'rule-without-conditions';

  constructor(readonly key: string) {
    super(`birthright rule ${key} has no conditions: give at least one, or { all: true } to match everyone`);
  }
}

/** The grant would create conflicts with `prevent` SoD policies. */
export class SodViolation extends DomainError {
  static readonly code = 'sod-violation';

  constructor(readonly conflicts: SodConflict[]) {
    super(`separation of duties: ${conflicts.map((c) => `${c.policyKey} (${[...c.left, ...c.right].join(', ')})`).join('; ')}`);
  }
}

/**
 * The grant would create conflicts with `approve` SoD policies and no approved exception
 * (reason and approver) came with it.
 */
export class SodExceptionRequired extends DomainError {
  static readonly code = 'sod-exception-required';

  constructor(readonly conflicts: SodConflict[]) {
    super(
      `separation of duties: ${conflicts.map((c) => `${c.policyKey} (${[...c.left, ...c.right].join(', ')})`).join('; ')} ` +
        'must be approved: grant it as an exception with a reason',
    );
  }
}

/** The identity holds no revocable grant matching the revocation. */
export class NotHeld extends DomainError {
  static readonly code = 'not-held';

  constructor(readonly identityId: string, readonly selector: { entitlement?: string; grantId?: string; requestId?: string }) {
    super(`identity ${identityId} holds no grant matching ${JSON.stringify(selector)}`);
  }
}

/**
 * The entitlement is held only through birthright rules, which own those grants;
 * change the rule or role instead (a revoke would be undone by the next recompute).
 */
export class HeldByBirthright extends DomainError {
  static readonly code = 'held-by-birthright';

  constructor(readonly identityId: string, readonly entitlement: string, readonly ruleKeys: string[]) {
    super(`identity ${identityId} holds ${entitlement} by birthright rule ${ruleKeys.join(', ')}: change the rule instead`);
  }
}

/** The identity is terminated; nothing is granted until it is reinstated. */
export class IdentityTerminated extends DomainError {
  static readonly code = 'identity-terminated';

  constructor(readonly identityId: string) {
    super(`identity ${identityId} is terminated`);
  }
}

/** A just-in-time grant would outlast the entitlement's `maxDuration`. */
export class DurationExceedsMaximum extends DomainError {
  static readonly code = 'duration-exceeds-maximum';

  constructor(readonly entitlement: string, readonly maxDuration: string, readonly expiresAt: string, readonly latestExpiry: string) {
    super(`${entitlement} may be granted for at most ${maxDuration} (until ${latestExpiry}), asked until ${expiresAt}`);
  }
}

/** Nobody grants access to themselves; another administrator has to. */
export class SelfGrant extends DomainError {
  static readonly code = 'self-grant';

  constructor(readonly identityId: string, readonly entitlement: string) {
    super(`${identityId} may not grant ${entitlement} to themselves: another administrator has to`);
  }
}

/** A privileged entitlement is granted by an administrator only after multi-factor login (`mfa` in `amr`). */
export class StepUpRequired extends DomainError {
  static readonly code = 'step-up-required';

  constructor(readonly entitlement: string) {
    super(`${entitlement} is privileged: granting it needs a multi-factor login (amr with mfa); sign in again with a second factor`);
  }
}

/** An SoD exception is approved by someone other than the identity that benefits from it. */
export class SelfApprovedException extends DomainError {
  static readonly code = 'self-approved-exception';

  constructor(readonly identityId: string) {
    super(`${identityId} may not approve an SoD exception for their own access`);
  }
}
