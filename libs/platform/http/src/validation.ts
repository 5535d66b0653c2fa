import { ArgumentMetadata, ValidationError, ValidationPipe } from '@nestjs/common';
import { plainToInstance } from 'class-transformer';
import { validate, type ValidatorOptions } from 'class-validator';
import { validDtoOf } from './compiled-validation';
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
    // A body or query its DTO certainly accepts is built by the DTO's compiled validator; anything
    // else (and every refusal, with its wording) is class-validator's, through ValidationPipe.
    if (metadata.type !== 'custom' && isDtoClass(metadata.metatype)) {
      const dto = validDtoOf(metadata.metatype, value);
      if (dto !== undefined) return dto;
    }
    return super.transform(value, metadata);
  }
}

const NOT_DTOS: ReadonlySet<unknown> = new Set([String, Boolean, Number, Array, Object, Buffer, Date]);

/** A class that may carry class-validator metadata (ValidationPipe's own toValidate test). */
function isDtoClass(metatype: ArgumentMetadata['metatype']): metatype is new () => object {
  return typeof metatype === 'function' && !NOT_DTOS.has(metatype);
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

export type DtoCheck<T> = { ok: true; dto: T } | { ok: false; errors: FieldError[] };

/**
 * validateDto applies a DTO's rules to a payload that did not come through HTTP (a message door),
 * exactly as the global pipe does: what no route accepts (untrustedInputError), then the DTO's
 * compiled validator, then class-transformer and class-validator with the same options, so a
 * door and its HTTP route accept the same payloads and name each bad field with the same message.
 */
export async function validateDto<T extends object>(cls: new () => T, payload: unknown, what = 'the payload'): Promise<DtoCheck<T>> {
  const unacceptable = untrustedInputError(payload);
  if (unacceptable) return { ok: false, errors: [unacceptable] };
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
    return { ok: false, errors: [{ field: '', message: `${what} must be a JSON object` }] };
  }
  const fast = validDtoOf(cls, payload);
  if (fast !== undefined) return { ok: true, dto: fast };
  const dto = plainToInstance(cls, payload);
  const errors = await validate(dto, VALIDATOR_OPTIONS);
  return errors.length > 0 ? { ok: false, errors: flattenValidationErrors(errors) } : { ok: true, dto };
}
