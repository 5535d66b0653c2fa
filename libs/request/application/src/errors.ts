/*
 * The request application's own refusals: about what the other contexts told it (an unknown
 * entitlement or identity), not about a request's rules (those are the domain's). Each carries
 * its code and HTTP status, as the entitlement application's UnknownIdentity does.
 */

/** 422: the catalog has no such entitlement (or it was retired), as far as the request context has heard. */
export class UnknownEntitlement extends Error {
  readonly code = 'unknown-entitlement';
  readonly httpStatus = 422;

  constructor(readonly entitlement: string) {
    super(`there is no entitlement ${entitlement} to request (unknown or retired)`);
  }
}

/** 422: the catalog has no such role (or it was retired), or it gives no entitlement to request. */
export class UnknownRole extends Error {
  readonly code = 'unknown-role';
  readonly httpStatus = 422;

  constructor(readonly role: string, empty = false) {
    super(empty ? `role ${role} gives no entitlement to request` : `there is no role ${role} to request (unknown or retired)`);
  }
}

/** 422: the beneficiary is no identity the request context has heard of, or is not active. */
export class UnknownBeneficiary extends Error {
  readonly code = 'unknown-identity';
  readonly httpStatus = 422;

  constructor(readonly identityId: string, readonly status?: string) {
    super(status ? `identity ${identityId} is ${status}: access can be requested for active identities only` : `identity ${identityId} is not known to the request service`);
  }
}

/** 403: only the beneficiary themselves, their manager or an administrator raises a request for them. */
export class NotAllowedToRequest extends Error {
  readonly code = 'not-allowed-to-request';
  readonly httpStatus = 403;

  constructor(readonly requesterId: string, readonly beneficiaryId: string) {
    super(`${requesterId} may not request access for ${beneficiaryId}: only they, their manager or an administrator may`);
  }
}

/** 403: a request is shown to its parties, its approvers, administrators and auditors only. */
export class NotAllowedToRead extends Error {
  readonly code = 'forbidden';
  readonly httpStatus = 403;

  constructor(readonly requestId: string) {
    super(`request ${requestId} is not yours to see`);
  }
}

/** 422: a delegate (or another identity named in a command) the request context does not know as active. */
export class UnknownIdentity extends Error {
  readonly code = 'unknown-identity';
  readonly httpStatus = 422;

  constructor(readonly identityId: string, readonly status?: string) {
    super(status ? `identity ${identityId} is ${status}: only an active identity can be named here` : `identity ${identityId} is not known to the request service`);
  }
}
