import { ValidationFailed } from '../errors';

/** instantOf: times travel as RFC 3339 strings and are compared as instants, never as text. */
export function instantOf(value: string, field: string): number {
  const ms = typeof value === 'string' ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(ms)) throw new ValidationFailed([{ field, message: `not an RFC 3339 time: ${String(value)}` }]);
  return ms;
}

/** isAtOrAfter: true when instant `a` is not earlier than instant `b`. */
export function isAtOrAfter(a: string, b: string): boolean {
  return instantOf(a, 'time') >= instantOf(b, 'time');
}

/** unique: keeps the first occurrence of each value, in order. */
export function unique<T>(values: readonly T[]): T[] {
  return [...new Set(values)];
}

/** blank: true for anything but a string with a visible character. */
export function blank(value: unknown): boolean {
  return typeof value !== 'string' || value.trim() === '';
}
