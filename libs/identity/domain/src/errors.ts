import { DomainError } from '@custos/platform/domain';

/*
 * The identity context's broken rules. Each names its stable code (DomainError); the HTTP status
 * of each code is declared at the edge (libs/identity/api, `IDENTITY_ERROR_STATUSES`).
 */

export class IdentityNotFound extends DomainError {
  static readonly code = 'identity-not-found';

  constructor(readonly identityId: string) {
    super(`identity ${identityId} does not exist`);
  }
}

export class IdentityAlreadyExists extends DomainError {
  static readonly code = 'identity-already-exists';

  constructor(readonly identityId: string) {
    super(`identity ${identityId} already exists`);
  }
}

export class InvalidLifecycleTransition extends DomainError {
  static readonly code = 'invalid-lifecycle-transition';

  constructor(
    readonly identityId: string,
    readonly command: string,
    readonly status: string,
  ) {
    super(`identity ${identityId} is ${status}: ${command} is not allowed`);
  }
}

export class ActivationBeforeStartDate extends DomainError {
  static readonly code = 'activation-before-start-date';

  constructor(
    readonly identityId: string,
    readonly startsAt: string,
    readonly now: string,
  ) {
    super(`identity ${identityId} starts at ${startsAt}; it cannot be activated at ${now}`);
  }
}

export class EmployeeIdMismatch extends DomainError {
  static readonly code = 'employee-id-mismatch';

  constructor(
    readonly identityId: string,
    readonly expected: string,
    readonly received: string,
  ) {
    super(`identity ${identityId} belongs to employee ${expected}, not ${received}`);
  }
}

export class InvalidTimestamp extends DomainError {
  static readonly code = 'invalid-timestamp';

  constructor(
    readonly field: string,
    readonly value: string,
  ) {
    super(`${field} is not an RFC 3339 timestamp: ${JSON.stringify(value)}`);
  }
}
