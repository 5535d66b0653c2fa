import {
  BIRTHRIGHT_ATTRIBUTES,
  type AttributeMatch,
  type BirthrightAttribute,
  type BirthrightConditions,
  type BirthrightWhen,
} from '@custos/entitlement/contracts';
import { RuleWithoutConditions, ValidationFailed, type FieldError } from '../errors';
import { unique } from '../shared/references';

/**
 * normalizeWhen: a rule states at least one condition on known attributes, each a non-blank
 * value or a non-empty `{ in }` list, or else exactly `{ all: true }`; undefined entries are
 * dropped and `in` lists deduplicated.
 */
export function normalizeWhen(ruleKey: string, when: BirthrightWhen): BirthrightWhen {
  if (when === null || typeof when !== 'object' || Array.isArray(when)) {
    throw new ValidationFailed([{ field: 'when', message: 'must be an object of conditions, or { all: true }' }]);
  }
  const entries = Object.entries(when).filter(([, value]) => value !== undefined);
  if (entries.some(([name]) => name === 'all')) {
    if (entries.length === 1 && (when as { all: unknown }).all === true) return { all: true };
    throw new ValidationFailed([{ field: 'when.all', message: 'must be exactly { all: true }, without other conditions' }]);
  }
  if (entries.length === 0) throw new RuleWithoutConditions(ruleKey);

  const errors: FieldError[] = [];
  const conditions: BirthrightConditions = {};
  for (const [name, value] of entries) {
    const field = `when.${name}`;
    if (!(BIRTHRIGHT_ATTRIBUTES as readonly string[]).includes(name)) {
      errors.push({ field, message: `unknown attribute; use ${BIRTHRIGHT_ATTRIBUTES.join(', ')}` });
      continue;
    }
    const match = normalizeMatch(value);
    if (match === null) errors.push({ field, message: 'must be a non-blank string or { in: [non-blank strings, at least one] }' });
    else conditions[name as BirthrightAttribute] = match;
  }
  if (errors.length > 0) throw new ValidationFailed(errors);
  return conditions;
}

function normalizeMatch(value: unknown): AttributeMatch | null {
  if (typeof value === 'string') return value.trim() === '' ? null : value;
  if (value === null || typeof value !== 'object' || Object.keys(value).some((key) => key !== 'in')) return null;
  const values = (value as { in: unknown }).in;
  if (!Array.isArray(values) || values.length === 0 || values.some((v) => typeof v !== 'string' || v.trim() === '')) return null;
  return { in: unique(values as string[]) };
}
