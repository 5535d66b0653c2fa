import { parse, type Filter } from 'scim2-parse-filter';
import { ScimError } from './scim-error';
import { resolvePath, type ScimAttribute, type ScimResourceSchema } from './scim-schemas';
import { checkPath } from './scim-untrusted';

export type { Filter } from 'scim2-parse-filter';

const ORDERING = new Set(['gt', 'ge', 'lt', 'le']);

/**
 * parseScimFilter parses a filter of RFC 7644 section 3.4.2.2 (with scim2-parse-filter) and
 * refuses what the RFC says to refuse: a syntax error, or ordering on a boolean attribute; and
 * an attribute path that names a prototype (`__proto__`, ...: 400 invalidPath).
 */
export function parseScimFilter(text: string, schema: ScimResourceSchema): Filter {
  let filter: Filter;
  try {
    filter = parse(text);
  } catch (error) {
    throw ScimError.invalidFilter(`invalid filter ${JSON.stringify(text)}: ${(error as Error).message}`);
  }
  check(filter, schema);
  return filter;
}

function check(filter: Filter, schema: ScimResourceSchema, within?: ScimAttribute): void {
  switch (filter.op) {
    case 'and':
    case 'or':
      return filter.filters.forEach((f) => check(f, schema, within));
    case 'not':
      return check(filter.filter, schema, within);
    case '[]': {
      checkPath(filter.attrPath);
      const { definition } = resolvePath(filter.attrPath, schema, within);
      return check(filter.valFilter, schema, definition ?? { ...UNKNOWN, subAttributes: [] });
    }
    default: {
      checkPath(filter.attrPath);
      const { definition } = resolvePath(filter.attrPath, schema, within);
      if (ORDERING.has(filter.op) && definition?.type === 'boolean') {
        throw ScimError.invalidFilter(`${filter.op} cannot compare the boolean attribute ${filter.attrPath}`);
      }
    }
  }
}

const UNKNOWN: ScimAttribute = {
  name: '',
  type: 'string',
  multiValued: false,
  description: '',
  required: false,
  caseExact: false,
  mutability: 'readWrite',
  returned: 'default',
  uniqueness: 'none',
};

/**
 * matchesFilter evaluates a parsed filter against one SCIM resource, with the schema's rules:
 * attribute names are case-insensitive, string comparisons too unless the attribute is
 * caseExact, dateTimes compare as instants, a complex multi-valued attribute compared without
 * a sub-attribute means its `value`, and a multi-valued attribute matches when any value does.
 * An attribute the schema does not define matches nothing (a client's private attribute is
 * not an error). scim2-parse-filter's own evaluator compares case-sensitively, hence this one.
 */
export function matchesFilter(resource: unknown, filter: Filter, schema: ScimResourceSchema): boolean {
  return test(resource, filter, schema);
}

function test(target: unknown, filter: Filter, schema: ScimResourceSchema, within?: ScimAttribute): boolean {
  switch (filter.op) {
    case 'and':
      return filter.filters.every((f) => test(target, f, schema, within));
    case 'or':
      return filter.filters.some((f) => test(target, f, schema, within));
    case 'not':
      return !test(target, filter.filter, schema, within);
    case '[]': {
      const resolved = resolvePath(filter.attrPath, schema, within);
      if (!resolved.definition) return false;
      const elements = valuesAt(target, resolved.extension, resolved.names).filter((v) => typeof v === 'object');
      return elements.some((element) => test(element, filter.valFilter, schema, resolved.definition));
    }
    case 'pr': {
      const resolved = resolvePath(filter.attrPath, schema, within);
      if (!resolved.definition && !within) return false;
      return valuesAt(target, resolved.extension, resolved.names).some(isPresent);
    }
    default: {
      const resolved = resolvePath(filter.attrPath, schema, within);
      const definition = resolved.definition;
      if (!definition) return false;
      let values = valuesAt(target, resolved.extension, resolved.names);
      // `emails co "@example.com"` compares the emails' values.
      if (definition.type === 'complex') {
        values = values.flatMap((v) => (typeof v === 'object' && v !== null ? valuesAt(v, undefined, ['value']) : []));
      }
      const equal = (v: unknown) => compare(v, filter.compValue, definition) === 0;
      if (filter.op === 'eq') return filter.compValue === null ? !values.some(isPresent) : values.some(equal);
      if (filter.op === 'ne') return filter.compValue === null ? values.some(isPresent) : !values.some(equal);
      return values.some((v) => satisfies(filter.op, v, filter.compValue, definition));
    }
  }
}

/** Every value at a path; arrays on the way are flattened. */
function valuesAt(target: unknown, extension: string | undefined, names: string[]): unknown[] {
  let current: unknown[] = [target];
  const steps = extension ? [extension, ...names] : names;
  for (const name of steps) {
    const next: unknown[] = [];
    for (const value of current) {
      if (typeof value !== 'object' || value === null) continue;
      const key = Object.keys(value).find((k) => k.toLowerCase() === name.toLowerCase());
      if (key === undefined) continue;
      const child = (value as Record<string, unknown>)[key];
      if (Array.isArray(child)) next.push(...child);
      else next.push(child);
    }
    current = next;
  }
  return current.flatMap((v) => (Array.isArray(v) ? v : [v]));
}

function isPresent(value: unknown): boolean {
  if (value === undefined || value === null || value === '') return false;
  if (Array.isArray(value)) return value.length > 0;
  if (typeof value === 'object') return Object.keys(value).length > 0;
  return true;
}

type CompValue = boolean | null | number | string;

function satisfies(op: string, value: unknown, compValue: CompValue, definition: ScimAttribute): boolean {
  if (compValue === null || value === null || value === undefined) return false;
  switch (op) {
    case 'co':
    case 'sw':
    case 'ew': {
      if (typeof value !== 'string' || typeof compValue !== 'string') return false;
      const [v, c] = definition.caseExact ? [value, compValue] : [value.toLowerCase(), compValue.toLowerCase()];
      return op === 'co' ? v.includes(c) : op === 'sw' ? v.startsWith(c) : v.endsWith(c);
    }
    case 'gt':
    case 'ge':
    case 'lt':
    case 'le': {
      const order = compare(value, compValue, definition);
      if (order === undefined) return false;
      return op === 'gt' ? order > 0 : op === 'ge' ? order >= 0 : op === 'lt' ? order < 0 : order <= 0;
    }
    default:
      return false;
  }
}

/** Orders a resource value against a filter value: negative, zero, positive, or undefined when they cannot be compared. */
function compare(value: unknown, compValue: CompValue, definition: ScimAttribute): number | undefined {
  if (compValue === null || value === null || value === undefined) return undefined;
  if (definition.type === 'dateTime' && typeof compValue === 'string') {
    const [a, b] = [Date.parse(String(value)), Date.parse(compValue)];
    if (Number.isNaN(a) || Number.isNaN(b)) return undefined;
    return a - b;
  }
  if (typeof value === 'boolean' || typeof compValue === 'boolean') {
    // Azure AD sends booleans as strings ("True"); compare their meaning.
    const a = typeof value === 'boolean' ? value : String(value).toLowerCase() === 'true';
    const b = typeof compValue === 'boolean' ? compValue : String(compValue).toLowerCase() === 'true';
    return a === b ? 0 : a ? 1 : -1;
  }
  if (typeof value === 'number' && typeof compValue === 'number') return value - compValue;
  if (typeof value !== 'string' || typeof compValue !== 'string') return String(value) === String(compValue) ? 0 : undefined;
  const [a, b] = definition.caseExact ? [value, compValue] : [value.toLowerCase(), compValue.toLowerCase()];
  return a < b ? -1 : a > b ? 1 : 0;
}
