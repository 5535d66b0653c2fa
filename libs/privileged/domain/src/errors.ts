import { DomainError } from '@custos/platform/domain';

/*
 * The privileged context's broken rules. Each names its code; the HTTP status of each code is
 * declared at the edge (libs/privileged/api, PRIVILEGED_ERROR_STATUSES). No error carries a
 * secret: messages name keys, usernames and reasons only.
 */

export { ValidationFailed, type FieldError } from '@custos/platform/domain';

export class TargetNotFound extends DomainError {
  static readonly code = 'target-not-found';
  constructor(readonly target: string) {
    super(`target ${target} is not registered`);
  }
}

export class TargetAlreadyRegistered extends DomainError {
  static readonly code = 'target-already-registered';
  constructor(readonly target: string) {
    super(`target ${target} is registered already`);
  }
}

/** The connector could not reach the target or log in with the admin credential: nothing is registered. */
export class TargetUnreachable extends DomainError {
  static readonly code = 'target-unreachable';
  constructor(readonly target: string, readonly reason: string) {
    super(`target ${target} cannot be used: ${reason}`);
  }
}

/** A vault account or an entitlement names a target that is not registered. */
export class UnknownTarget extends DomainError {
  static readonly code = 'unknown-target';
  constructor(readonly target: string) {
    super(`target ${target} is not registered`);
  }
}

export class VaultAccountNotFound extends DomainError {
  static readonly code = 'vault-account-not-found';
  constructor(readonly key: string) {
    super(`vault account ${key} does not exist`);
  }
}

export class VaultAccountAlreadyRegistered extends DomainError {
  static readonly code = 'vault-account-already-registered';
  constructor(readonly key: string) {
    super(`vault account ${key} exists already`);
  }
}

/** Only a holder of an active grant of the account's entitlement checks it out. */
export class NoActiveGrant extends DomainError {
  static readonly code = 'no-active-grant';
  constructor(readonly key: string, readonly identityId: string, readonly entitlement: string) {
    super(`${identityId} holds no active grant of ${entitlement}, which checking out ${key} needs`);
  }
}

/** Check-out is exclusive: one lease at a time. */
export class AlreadyCheckedOut extends DomainError {
  static readonly code = 'already-checked-out';
  constructor(readonly key: string, readonly expiresAt: string) {
    super(`vault account ${key} is checked out until ${expiresAt}`);
  }
}

/** A password change is under way: the account is not handed out until it is committed. */
export class RotationPending extends DomainError {
  static readonly code = 'rotation-pending';
  constructor(readonly key: string) {
    super(`vault account ${key} is having its password rotated; try again in a moment`);
  }
}

/** A check-in needs a lease held by the caller. */
export class NotCheckedOut extends DomainError {
  static readonly code = 'not-checked-out';
  constructor(readonly key: string, readonly identityId: string) {
    super(`${identityId} holds no lease of vault account ${key}`);
  }
}

export class JitAccountNotFound extends DomainError {
  static readonly code = 'jit-account-not-found';
  constructor(readonly grantId: string) {
    super(`grant ${grantId} has no just-in-time account`);
  }
}

/** A just-in-time credential goes to the grant's beneficiary only. */
export class NotJitBeneficiary extends DomainError {
  static readonly code = 'not-jit-beneficiary';
  constructor(readonly grantId: string, readonly identityId: string) {
    super(`the account of grant ${grantId} is not ${identityId}'s`);
  }
}

/** The account is being created on the target: its credential is not ready yet. */
export class CredentialNotReady extends DomainError {
  static readonly code = 'credential-not-ready';
  constructor(readonly grantId: string) {
    super(`the account of grant ${grantId} is being created; try again in a moment`);
  }
}

/** A credential is delivered once, and never after its grant ended. */
export class CredentialGone extends DomainError {
  static readonly code = 'credential-gone';
  constructor(readonly grantId: string, readonly why: 'delivered' | 'ended') {
    super(why === 'delivered' ? `the credential of grant ${grantId} was delivered already; it is shown once` : `the grant ${grantId} has ended and its account with it`);
  }
}
