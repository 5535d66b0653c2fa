import { ArgumentMetadata, ValidationError, ValidationPipe } from '@nestjs/common';
import { badRequest, FieldError } from './problem';

/** One FieldError per broken constraint, nested fields named with dots (`employee.email`). */
export function flattenValidationErrors(errors: ValidationError[], parent = ''): FieldError[] {
  return errors.flatMap((error) => {
    const field = parent ? `${parent}.${error.property}` : error.property;
    const own = Object.values(error.constraints ?? {}).map((message) => ({ field, message }));
    return [...own, ...flattenValidationErrors(error.children ?? [], field)];
  });
}

const LONE_SURROGATE = /\p{Cs}/u;

/**
 * The path (`employee.email`) of the first string in `value` holding a lone surrogate: text that
 * is not well-formed Unicode, cannot be stored as UTF-8, and on which validator.js (isEmail) throws.
 */
export function malformedText(value: unknown, path = ''): string | undefined {
  if (typeof value === 'string') return LONE_SURROGATE.test(value) ? path : undefined;
  if (typeof value !== 'object' || value === null) return undefined;
  for (const [key, item] of Object.entries(value)) {
    const found = malformedText(item, path === '' ? key : `${path}.${key}`);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** The field error of malformed text at `field`. */
export const malformedTextError = (field: string): FieldError => ({ field, message: `${field} is not well-formed Unicode text (a lone surrogate)` });

/** Refuses malformed text with a 400 naming the field before class-validator sees it (it would throw, a 500). */
class CustosValidationPipe extends ValidationPipe {
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    const malformed = malformedText(value);
    if (malformed !== undefined) throw badRequest(`invalid request: ${malformed}`, [malformedTextError(malformed)]);
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
