/** The `scimType` values of RFC 7644 section 3.12 that this door uses. */
export type ScimType = 'invalidFilter' | 'tooMany' | 'uniqueness' | 'mutability' | 'invalidSyntax' | 'invalidPath' | 'noTarget' | 'invalidValue' | 'invalidVers' | 'sensitive';

/**
 * A request the SCIM door refuses, with the status and `scimType` of RFC 7644. It also carries
 * `code` and `httpStatus`, so that outside the SCIM routes the problem-details edge maps it too.
 */
export class ScimError extends Error {
  readonly code = 'scim-error';

  constructor(
    readonly httpStatus: number,
    readonly scimType: ScimType | undefined,
    detail: string,
  ) {
    super(detail);
    this.name = 'ScimError';
  }

  static invalidValue(detail: string): ScimError {
    return new ScimError(400, 'invalidValue', detail);
  }

  static invalidSyntax(detail: string): ScimError {
    return new ScimError(400, 'invalidSyntax', detail);
  }

  static invalidFilter(detail: string): ScimError {
    return new ScimError(400, 'invalidFilter', detail);
  }

  static mutability(detail: string): ScimError {
    return new ScimError(400, 'mutability', detail);
  }

  static uniqueness(detail: string): ScimError {
    return new ScimError(409, 'uniqueness', detail);
  }

  static notFound(detail: string): ScimError {
    return new ScimError(404, undefined, detail);
  }

  static preconditionFailed(detail: string): ScimError {
    return new ScimError(412, undefined, detail);
  }
}
