import { ArgumentMetadata, ValidationError, ValidationPipe } from '@nestjs/common';
import { badRequest, FieldError } from './problem';
import { untrustedInputError } from './untrusted-input';

/** One FieldError per broken constraint, nested fields named with dots (`employee.email`). */
export function flattenValidationErrors(errors: ValidationError[], parent = ''): FieldError[] {
  return errors.flatMap((error) => {
    const field = parent ? `${parent}.${error.property}` : error.property;
    const own = Object.values(error.constraints ?? {}).map((message) => ({ field, message }));
    return [...own, ...flattenValidationErrors(error.children ?? [], field)];
  });
}

/**
 * Refuses what no DTO may see with a 400 naming the field, before class-validator does: text it
 * would throw on (a lone surrogate: validator.js's isEmail raises a URIError, a 500), text
 * PostgreSQL cannot store (NUL), nesting a recursive walk would overflow on, prototype names.
 */
class CustosValidationPipe extends ValidationPipe {
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    const error = untrustedInputError(value);
    if (error) throw badRequest(`invalid request: ${error.field}`, [error]);
    return super.transform(value, metadata);
  }
}

/** Validates every body against its DTO: unknown fields are refused, each bad field is named. */
export function createValidationPipe(): ValidationPipe {
  return new CustosValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    validationError: { target: false, value: false },
    exceptionFactory: (errors) => {
      const fieldErrors = flattenValidationErrors(errors);
      return badRequest(`invalid request: ${fieldErrors.map((e) => e.field).join(', ')}`, fieldErrors);
    },
  });
}
