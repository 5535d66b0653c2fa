import { plainToInstance } from 'class-transformer';
import { PROTOTYPE_KEYS } from './untrusted-input';
import { getMetadataStorage, ValidationTypes, type ValidationArguments, type ValidatorConstraintInterface } from 'class-validator';

/**
 * A validator compiled once per DTO class from its own class-validator metadata (the list
 * ValidationExecutor reads), run without class-transformer and the executor. It calls the very
 * constraint instances class-validator calls (validator.js isEmail, isISO8601, isLength, a DTO's
 * regexes...), so it cannot disagree on a value; for three of them a cheaper check that can only
 * say "certainly valid" comes first (SHORTCUTS). It never refuses: whatever it is not sure of
 * (an invalid payload, a value JSON cannot carry, a DTO using a decorator it does not know) is
 * left to class-transformer and class-validator, which decide it and word every error.
 *
 * One mechanism for every DTO: the global validation pipe and the message doors both go through
 * `validDtoOf` first (validation.ts). On a valid body it does in about 1 µs what
 * plainToInstance + validate do in 10-20 µs.
 */

type Ctor = new () => object;

interface Rule {
  constraint: ValidatorConstraintInterface;
  constraints: unknown[];
  each: boolean;
  validateIf?: (object: unknown, value: unknown) => boolean;
  /** True only when the constraint would answer true too; false says nothing. */
  surelyValid?: (value: unknown) => boolean;
}

interface Field {
  name: string;
  /** IsOptional / ValidateIf: when one answers false, no rule of the field is checked. */
  conditions: Array<(object: unknown, value: unknown) => boolean>;
  rules: Rule[];
  nested?: Plan;
}

interface Plan {
  cls: Ctor;
  name: string;
  byName: Map<string, Field>;
  fields: Field[];
}

/** Null for a class the compiler does not support: class-validator decides each of its payloads. */
const plans = new WeakMap<Ctor, Plan | null>();

function planOf(cls: Ctor): Plan | null {
  let plan = plans.get(cls);
  if (plan === undefined) {
    plan = tryCompile(cls);
    plans.set(cls, plan);
  }
  return plan;
}

/** Whether `cls` has a compiled validator (specs keep the project's DTOs on it). */
export function isCompiledDto(cls: Ctor): boolean {
  return planOf(cls) !== null;
}

/**
 * validDtoOf returns the instance class-transformer would make of `input` when the DTO's rules
 * certainly accept it (unknown keys refused, as the global pipe's options say); undefined when
 * not sure, and then class-validator decides.
 */
export function validDtoOf<T extends object>(cls: new () => T, input: unknown): T | undefined {
  return buildValid(planOf(cls), input) as T | undefined;
}

function tryCompile(cls: Ctor): Plan | null {
  try {
    return compile(cls, '', new Map());
  } catch {
    return null;
  }
}

class Unsupported extends Error {}

function compile(cls: Ctor, schema: string, compiling: Map<Ctor, Plan>): Plan {
  const known = compiling.get(cls);
  if (known) return known;
  const storage = getMetadataStorage();
  // What ValidationExecutor.execute asks for (no groups, always and strictGroups false).
  const metadatas = storage.getTargetValidationMetadatas(cls, schema, false, false, undefined);
  if (metadatas.length === 0) throw new Unsupported(`${cls.name} has no validation metadata`);
  const plan: Plan = { cls, name: cls.name, byName: new Map(), fields: [] };
  compiling.set(cls, plan);
  const blank = new cls() as Record<string, unknown>;
  for (const metadata of metadatas) {
    const name = metadata.propertyName;
    // class-transformer silently drops these keys (and whitelisting never sees them): leave them to the slow path.
    if (name === '__proto__' || name === 'constructor' || typeof blank[name] === 'function' || hasAccessor(cls, name)) throw new Unsupported(name);
    if (metadata.groups?.length || metadata.always) throw new Unsupported(`${name}: validation groups`);
    let field = plan.byName.get(name);
    if (!field) {
      field = { name, conditions: [], rules: [] };
      plan.byName.set(name, field);
      plan.fields.push(field);
    }
    switch (metadata.type) {
      case ValidationTypes.CONDITIONAL_VALIDATION:
        field.conditions.push(metadata.constraints[0] as (object: unknown, value: unknown) => boolean);
        break;
      case ValidationTypes.CUSTOM_VALIDATION:
      case ValidationTypes.IS_DEFINED:
        for (const constraint of storage.getTargetValidatorConstraints(metadata.constraintCls)) {
          if (constraint.async) throw new Unsupported(`${name}: async constraint`);
          const constraints = metadata.constraints ?? [];
          field.rules.push({ constraint: constraint.instance, constraints, each: metadata.each === true, validateIf: metadata.validateIf, surelyValid: SHORTCUTS.get(constraint.name)?.(constraints) });
        }
        break;
      case ValidationTypes.NESTED_VALIDATION:
        if (field.nested) throw new Unsupported(`${name}: two nested validations`);
        field.nested = compile(nestedType(cls, name), typeof metadata.target === 'string' ? metadata.target : metadata.target.name, compiling);
        break;
      case ValidationTypes.WHITELIST:
        break;
      default:
        throw new Unsupported(`${name}: ${metadata.type}`);
    }
  }
  checkTransformIsCopy(plan);
  return plan;
}

function hasAccessor(cls: Ctor, name: string): boolean {
  for (let proto = cls.prototype as object | null; proto !== null; proto = Object.getPrototypeOf(proto) as object | null) {
    if (Object.getOwnPropertyDescriptor(proto, name)) return true;
  }
  return false;
}

/** The class plainToInstance makes of an object under `name` (its @Type), asked of class-transformer itself. */
function nestedType(cls: Ctor, name: string): Ctor {
  const made = (plainToInstance(cls, { [name]: {} }) as Record<string, unknown>)[name];
  if (typeof made !== 'object' || made === null || made.constructor === Object || Array.isArray(made)) throw new Unsupported(`${cls.name}.${name}: no @Type`);
  return made.constructor as Ctor;
}

/**
 * The fast path builds the instance as plainToInstance does on JSON when the DTO has no
 * class-transformer decorator but @Type on nested objects: a new instance, every key copied,
 * arrays copied, nested objects made instances of their @Type. Probes make sure no @Transform,
 * @Expose, @Exclude or @Type(() => Number) changes that; a DTO that has one is left to the slow path.
 */
function checkTransformIsCopy(plan: Plan): void {
  for (const probe of [' Probe-Value ', [' Probe ', 'x', 1, null], null, '2026-01-01T00:00:00Z', '', '12', 0, false]) {
    const plain: Record<string, unknown> = {};
    for (const field of plan.fields) plain[field.name] = field.nested && probe !== null ? {} : probe;
    const made = plainToInstance(plan.cls, plain) as Record<string, unknown>;
    const expected = Object.assign(new plan.cls(), plain) as Record<string, unknown>;
    if (made.constructor !== plan.cls || Object.keys(made).join() !== Object.keys(expected).join()) throw new Unsupported(`${plan.name}: keys`);
    for (const field of plan.fields) {
      const value = made[field.name];
      if (field.nested && probe !== null) {
        if (!(value instanceof field.nested.cls)) throw new Unsupported(`${plan.name}.${field.name}: nested`);
      } else if (Array.isArray(probe)) {
        if (!Array.isArray(value) || value === probe || value.length !== probe.length || value.some((item, i) => item !== probe[i])) throw new Unsupported(`${plan.name}.${field.name}: array`);
      } else if (value !== probe) {
        throw new Unsupported(`${plan.name}.${field.name}: value`);
      }
    }
  }
}

const ARRAY_PROTO: unknown = Array.prototype;
const OBJECT_PROTO: unknown = Object.prototype;

const isPrimitive = (value: unknown): boolean => value === null || (typeof value !== 'object' && typeof value !== 'function');

/**
 * A plain object as JSON.parse makes it, or as a query-string parser does (no prototype, or, as
 * Fastify's fast-querystring makes them, an empty prototype that has none): the only objects the
 * fast path copies. Class instances, Dates, String objects are left to class-transformer.
 */
function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto === OBJECT_PROTO || proto === null) return true;
  return Object.getPrototypeOf(proto) === null && Reflect.ownKeys(proto as object).length === 0;
}

/** The instance class-transformer would make of `input`, when every rule of the plan passes on it; undefined when not sure. */
function buildValid(plan: Plan | null, input: unknown): object | undefined {
  if (plan === null || !isPlainObject(input)) return undefined;
  const source = input;
  const instance = new plan.cls() as Record<string, unknown>;
  for (const key of Object.keys(source)) {
    // A name that would reach a prototype is never copied (untrustedInputError refuses it before).
    if (PROTOTYPE_KEYS.has(key)) return undefined;
    const field = plan.byName.get(key);
    if (field === undefined) return undefined; // forbidNonWhitelisted (or a key class-transformer would drop)
    const value = source[key];
    if (isPrimitive(value)) {
      instance[key] = value;
    } else if (Array.isArray(value)) {
      if (Object.getPrototypeOf(value) !== ARRAY_PROTO) return undefined;
      const copy: unknown[] = [];
      for (let i = 0; i < value.length; i++) {
        // class-transformer drops holes and transforms objects: not for the fast path
        if (!(i in value) || !isPrimitive(value[i])) return undefined;
        copy.push(value[i]);
      }
      instance[key] = copy;
    } else if (field.nested !== undefined) {
      const nested = buildValid(field.nested, value);
      if (nested === undefined) return undefined;
      instance[key] = nested;
    } else {
      return undefined;
    }
  }
  for (const field of plan.fields) {
    const value = instance[field.name];
    let checked = true;
    for (const condition of field.conditions) if (!condition(instance, value)) checked = false;
    if (!checked) continue;
    for (const rule of field.rules) {
      if (rule.validateIf && !rule.validateIf(instance, value)) continue;
      if (rule.each && Array.isArray(value)) {
        for (const item of value as unknown[]) if (!passes(rule, item, instance, value, plan, field)) return undefined;
      } else if (!passes(rule, value, instance, value, plan, field)) {
        return undefined;
      }
    }
    // ValidateNested skips undefined; an object must be one built (and so checked) above, not a default of the class.
    if (field.nested !== undefined && value !== undefined && !(value instanceof field.nested.cls && Object.hasOwn(source, field.name))) return undefined;
  }
  return instance;
}

function passes(rule: Rule, checked: unknown, object: object, value: unknown, plan: Plan, field: Field): boolean {
  if (rule.surelyValid?.(checked) === true) return true;
  const args: ValidationArguments = { targetName: plan.name, property: field.name, object, value, constraints: rule.constraints };
  return rule.constraint.validate(checked, args) === true;
}

// ---------------------------------------------------------------------------------------------
// Shortcuts: for a constraint name (with its constraints), a check that answers true only for
// values the constraint certainly accepts; anything else still goes to the constraint itself.
// ---------------------------------------------------------------------------------------------

/**
 * MaxLength → validator's isLength(value, { min: 0, max }) counts a surrogate pair, and a
 * character followed by a variation selector, as one: never more than `.length`, never less than 0.
 */
const surelyShortEnough =
  (max: number) =>
  (value: unknown): boolean =>
    typeof value === 'string' && value.length <= max;

const SIMPLE_EMAIL = /^[a-zA-Z0-9]+(?:[._+-][a-zA-Z0-9]+)*@((?:[a-zA-Z0-9]+(?:-[a-zA-Z0-9]+)*\.)+[a-zA-Z]{2,63})$/;

/**
 * IsEmail() (validator's isEmail with its default options) accepts every ASCII address of the
 * plainest shape: letters and digits in dot-, underscore-, plus- or hyphen-separated runs, at most
 * 64 characters before the @ (one @ only), at most 254 in all, then hostname labels of letters,
 * digits and inner hyphens, at most 63 each, and an alphabetic TLD of 2 to 63 letters. Quoted
 * local parts, IP literals, IDN and everything else go to isEmail.
 */
function surelyEmail(value: unknown): boolean {
  if (typeof value !== 'string' || value.length > 254) return false;
  const match = SIMPLE_EMAIL.exec(value);
  if (match === null) return false;
  const domain = match[1];
  if (value.length - domain.length - 1 > 64) return false;
  for (const label of domain.split('.')) if (label.length > 63) return false;
  return true;
}

const SIMPLE_TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.\d+)?(?:Z|[+-](\d{2}):(\d{2}))$/;

/**
 * IsISO8601 (validator's isISO8601, strict or not, either separator) accepts
 * `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)` when the year is 1000 or later, the date exists
 * (proleptic Gregorian, as its Date check), the hour is 00-23, minutes and seconds 00-59 (no
 * leap second) and the zone hour 00-23. Anything else goes to isISO8601.
 */
function surelyTimestamp(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  const match = SIMPLE_TIMESTAMP.exec(value);
  if (match === null) return false;
  const year = Number(match[1]);
  const month = Number(match[2]);
  const day = Number(match[3]);
  // isISO8601's date check parses `${Number(year)}-MM-DD`: before 1000 the year loses its zeros and Date guesses (0000 is refused).
  if (year < 1000 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return false;
  if (Number(match[4]) > 23 || Number(match[5]) > 59 || Number(match[6]) > 59) return false;
  return match[7] === undefined || (Number(match[7]) <= 23 && Number(match[8]) <= 59);
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

const SHORTCUTS = new Map<string, (constraints: unknown[]) => ((value: unknown) => boolean) | undefined>([
  ['maxLength', ([max]) => (typeof max === 'number' ? surelyShortEnough(max) : undefined)],
  // only with isEmail's default options (@IsEmail() with no options)
  ['isEmail', ([options]) => (options === undefined ? surelyEmail : undefined)],
  ['isIso8601', () => surelyTimestamp],
]);

/** The shortcuts, for the spec to check each against its constraint. */
export const compiledValidationShortcuts = { surelyEmail, surelyTimestamp, surelyShortEnough };
