import type { SodConflict } from '@custos/entitlement/contracts';

/**
 * A broken business rule. The HTTP edge (platform/http `toProblem`) recognises it by `code` and
 * `httpStatus` and puts the other own fields into the problem details, so each error carries
 * the data the answer should name (`keys`, `path`, `conflicts`, `errors` per field...).
 */
export abstract class DomainError extends Error {
  abstract readonly code: string;
  abstract readonly httpStatus: number;

  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

export type CatalogKind = 'entitlement' | 'role' | 'birthright-rule' | 'sod-policy';
export type ReferenceKind = 'entitlement' | 'role';

export interface FieldError {
  field: string;
  message: string;
}

/** 400: the command is malformed; one entry per bad field. */
export class ValidationFailed extends DomainError {
  readonly code = 'validation-failed';
  readonly httpStatus = 400;

  constructor(readonly errors: FieldError[]) {
    super(errors.map((e) => `${e.field}: ${e.message}`).join('; '));
  }
}

/**
 * 422: referenced keys do not exist. `kind` and `keys` describe the first kind with unknown
 * keys; `references` lists every kind (a role may name unknown entitlements and unknown roles).
 */
export class UnknownReference extends DomainError {
  readonly code = 'unknown-reference';
  readonly httpStatus = 422;
  readonly kind: ReferenceKind;
  readonly keys: string[];

  constructor(readonly references: Array<{ kind: ReferenceKind; keys: string[] }>) {
    super(references.map((r) => `unknown ${r.kind} ${r.keys.length === 1 ? 'key' : 'keys'}: ${r.keys.join(', ')}`).join('; '));
    this.kind = references[0].kind;
    this.keys = references.flatMap((r) => r.keys);
  }
}

/** 409: the key is taken (keys are never reused, not even after retirement). */
export class AlreadyDefined extends DomainError {
  readonly code = 'already-defined';
  readonly httpStatus = 409;

  constructor(readonly kind: CatalogKind, readonly key: string) {
    super(`${kind} ${key} is already defined`);
  }
}

/** 404: nothing is defined under the key. */
export class NotDefined extends DomainError {
  readonly code = 'not-defined';
  readonly httpStatus = 404;

  constructor(readonly kind: CatalogKind, readonly key: string) {
    super(`${kind} ${key} is not defined`);
  }
}

/** 409: the entitlement is retired and can no longer change. */
export class Retired extends DomainError {
  readonly code = 'retired';
  readonly httpStatus = 409;

  constructor(readonly kind: CatalogKind, readonly key: string) {
    super(`${kind} ${key} is retired`);
  }
}

/** 422: the role would contain itself; `path` runs from the role back to it (`[a, b, a]`). */
export class RoleCycle extends DomainError {
  readonly code = 'role-cycle';
  readonly httpStatus = 422;

  constructor(readonly path: string[]) {
    super(`role cycle: ${path.join(' -> ')}`);
  }
}

/** 400: a birthright rule must state at least one condition, or `{ all: true }`. */
export class RuleWithoutConditions extends DomainError {
  readonly code = 'rule-without-conditions';
  readonly httpStatus = 400;

  constructor(readonly key: string) {
    super(`birthright rule ${key} has no conditions: give at least one, or { all: true } to match everyone`);
  }
}

/** 422: the grant would create conflicts with `prevent` SoD policies. */
export class SodViolation extends DomainError {
  readonly code = 'sod-violation';
  readonly httpStatus = 422;

  constructor(readonly conflicts: SodConflict[]) {
    super(`separation of duties: ${conflicts.map((c) => `${c.policyKey} (${[...c.left, ...c.right].join(', ')})`).join('; ')}`);
  }
}

/**
 * 422: the grant would create conflicts with `approve` SoD policies and no approved exception
 * (reason and approver) came with it.
 */
export class SodExceptionRequired extends DomainError {
  readonly code = 'sod-exception-required';
  readonly httpStatus = 422;

  constructor(readonly conflicts: SodConflict[]) {
    super(
      `separation of duties: ${conflicts.map((c) => `${c.policyKey} (${[...c.left, ...c.right].join(', ')})`).join('; ')} ` +
        'must be approved: grant it as an exception with a reason',
    );
  }
}

/** 404: the identity holds no revocable grant matching the revocation. */
export class NotHeld extends DomainError {
  readonly code = 'not-held';
  readonly httpStatus = 404;

  constructor(readonly identityId: string, readonly selector: { entitlement?: string; grantId?: string; requestId?: string }) {
    super(`identity ${identityId} holds no grant matching ${JSON.stringify(selector)}`);
  }
}

/**
 * 409: the entitlement is held only through birthright rules, which own those grants;
 * change the rule or role instead (a revoke would be undone by the next recompute).
 */
export class HeldByBirthright extends DomainError {
  readonly code = 'held-by-birthright';
  readonly httpStatus = 409;

  constructor(readonly identityId: string, readonly entitlement: string, readonly ruleKeys: string[]) {
    super(`identity ${identityId} holds ${entitlement} by birthright rule ${ruleKeys.join(', ')}: change the rule instead`);
  }
}

/** 409: the identity is terminated; nothing is granted until it is reinstated. */
export class IdentityTerminated extends DomainError {
  readonly code = 'identity-terminated';
  readonly httpStatus = 409;

  constructor(readonly identityId: string) {
    super(`identity ${identityId} is terminated`);
  }
}

/** 422: a just-in-time grant would outlast the entitlement's `maxDuration`. */
export class DurationExceedsMaximum extends DomainError {
  readonly code = 'duration-exceeds-maximum';
  readonly httpStatus = 422;

  constructor(readonly entitlement: string, readonly maxDuration: string, readonly expiresAt: string, readonly latestExpiry: string) {
    super(`${entitlement} may be granted for at most ${maxDuration} (until ${latestExpiry}), asked until ${expiresAt}`);
  }
}

/** 403: nobody grants access to themselves; another administrator has to. */
export class SelfGrant extends DomainError {
  readonly code = 'self-grant';
  readonly httpStatus = 403;

  constructor(readonly identityId: string, readonly entitlement: string) {
    super(`${identityId} may not grant ${entitlement} to themselves: another administrator has to`);
  }
}

/** 403: a privileged entitlement is granted by an administrator only after multi-factor login (`mfa` in `amr`). */
export class StepUpRequired extends DomainError {
  readonly code = 'step-up-required';
  readonly httpStatus = 403;

  constructor(readonly entitlement: string) {
    super(`${entitlement} is privileged: granting it needs a multi-factor login (amr with mfa); sign in again with a second factor`);
  }
}

/** 403: an SoD exception is approved by someone other than the identity that benefits from it. */
export class SelfApprovedException extends DomainError {
  readonly code = 'self-approved-exception';
  readonly httpStatus = 403;

  constructor(readonly identityId: string) {
    super(`${identityId} may not approve an SoD exception for their own access`);
  }
}
