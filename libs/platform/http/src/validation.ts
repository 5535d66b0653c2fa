import { ArgumentMetadata, ValidationError, ValidationPipe } from '@nestjs/common';
import type { ValidatorOptions } from 'class-validator';
import { badRequest, FieldError } from './problem';
import { untrustedInputError } from './untrusted-input';

/**
 * Which broken constraint speaks for a field, most telling first: a field that should not be
 * there, then one that is missing or empty, then one of the wrong type or outside its set; a
 * length, range or format only after those (a missing field is "should not be empty", never
 * "must be shorter than 200 characters").
 */
const CONSTRAINT_RANK: readonly string[] = [
  'whitelistValidation',
  'isDefined',
  'isNotEmpty',
  'nestedValidation',
  'isObject',
  'isString',
  'isArray',
  'isBoolean',
  'isInt',
  'isNumber',
  'isIn',
  'isEnum',
];

/** The message of the constraint that speaks for a field; among unranked ones, the first declared. */
function telling(constraints: Record<string, string>): string | undefined {
  const names = Object.keys(constraints);
  if (names.length === 0) return undefined;
  for (const name of CONSTRAINT_RANK) if (name in constraints) return constraints[name];
  // class-validator lists a property's constraints bottom-up (decorators apply from the last):
  // the last listed is the one written first.
  return constraints[names[names.length - 1]];
}

/** One FieldError per bad field (its most telling broken constraint), nested fields named with dots (`employee.email`). */
export function flattenValidationErrors(errors: ValidationError[], parent = ''): FieldError[] {
  return errors.flatMap((error) => {
    const field = parent ? `${parent}.${error.property}` : error.property;
    const message = telling(error.constraints ?? {});
    return [...(message === undefined ? [] : [{ field, message }]), ...flattenValidationErrors(error.children ?? [], field)];
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

/** How every DTO is validated, over HTTP (the global pipe) and at the message doors alike: unknown fields refused. */
export const VALIDATOR_OPTIONS: Readonly<ValidatorOptions> = { whitelist: true, forbidNonWhitelisted: true, validationError: { target: false, value: false } };

/** Validates every body against its DTO: unknown fields are refused, each bad field is named. */
export function createValidationPipe(): ValidationPipe {
  return new CustosValidationPipe({
    ...VALIDATOR_OPTIONS,
    transform: true,
    exceptionFactory: (errors) => {
      const fieldErrors = flattenValidationErrors(errors);
      return badRequest(`invalid request: ${fieldErrors.map((e) => e.field).join(', ')}`, fieldErrors);
    },
  });
}
