/** 404: the entitlement context has not (yet) heard of this identity from the identity context. */
export class UnknownIdentity extends Error {
  readonly code = 'identity-not-found';
  readonly httpStatus = 404;

  constructor(readonly identityId: string) {
    super(`identity ${identityId} is not known to the entitlement service`);
  }
}
