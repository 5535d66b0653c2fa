/**
 * A command broke a domain rule. `code` is stable and machine-readable so that the HTTP edge
 * maps it to a status without knowing the class (suggested: identity-not-found 404,
 * identity-already-exists 409, invalid-lifecycle-transition 409, activation-before-start-date 409,
 * employee-id-mismatch 422, invalid-timestamp 422).
 */
export abstract class DomainError extends Error {
  abstract readonly code: string;

  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

export class IdentityNotFound extends DomainError {
  readonly code = 'identity-not-found';

  constructor(readonly identityId: string) {
    super(`identity ${identityId} does not exist`);
  }
}

export class IdentityAlreadyExists extends DomainError {
  readonly code = 'identity-already-exists';

  constructor(readonly identityId: string) {
    super(`identity ${identityId} already exists`);
  }
}

export class InvalidLifecycleTransition extends DomainError {
  readonly code = 'invalid-lifecycle-transition';

  constructor(
    readonly identityId: string,
    readonly command: string,
    readonly status: string,
  ) {
    super(`identity ${identityId} is ${status}: ${command} is not allowed`);
  }
}

export class ActivationBeforeStartDate extends DomainError {
  readonly code = 'activation-before-start-date';

  constructor(
    readonly identityId: string,
    readonly startsAt: string,
    readonly now: string,
  ) {
    super(`identity ${identityId} starts at ${startsAt}; it cannot be activated at ${now}`);
  }
}

export class EmployeeIdMismatch extends DomainError {
  readonly code = 'employee-id-mismatch';

  constructor(
    readonly identityId: string,
    readonly expected: string,
    readonly received: string,
  ) {
    super(`identity ${identityId} belongs to employee ${expected}, not ${received}`);
  }
}

export class InvalidTimestamp extends DomainError {
  readonly code = 'invalid-timestamp';

  constructor(
    readonly field: string,
    readonly value: string,
  ) {
    super(`${field} is not an RFC 3339 timestamp: ${JSON.stringify(value)}`);
  }
}
