import { ValidationFailed } from '../errors';

/** instantOf: times travel as RFC 3339 strings and are compared as instants, never as text. */
export function instantOf(value: string, field: string): number {
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new ValidationFailed([{ field, message: `not an RFC 3339 time: ${value}` }]);
  return ms;
}

/** isAtOrAfter: true when instant `a` is not earlier than instant `b`. */
export function isAtOrAfter(a: string, b: string): boolean {
  return instantOf(a, 'time') >= instantOf(b, 'time');
}
