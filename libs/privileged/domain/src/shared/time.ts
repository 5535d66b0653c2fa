import { isoDurationEnd } from '@custos/platform/domain';
import { ValidationFailed } from '../errors';

/** instantOf: times travel as RFC 3339 strings and are compared as instants. */
export function instantOf(value: string, field: string): number {
  const ms = typeof value === 'string' ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(ms)) throw new ValidationFailed([{ field, message: `not an RFC 3339 time: ${String(value)}` }]);
  return ms;
}

/** addDuration: the instant `duration` after `start`; a malformed or over-long duration is a ValidationFailed on `field`. */
export function addDuration(start: string, duration: string, field: string): string {
  const end = isoDurationEnd(instantOf(start, 'now'), duration);
  if ('problem' in end) throw new ValidationFailed([{ field, message: end.problem === 'invalid' ? 'must be an ISO 8601 duration such as PT1H' : 'must be at most ten years' }]);
  return new Date(end.end).toISOString();
}

/** earliest: the earlier of two instants, an absent one being no bound. */
export function earliest(a: string, b: string | undefined): string {
  return b !== undefined && instantOf(b, 'time') < instantOf(a, 'time') ? b : a;
}

/** blank: true for anything but a string with a visible character. */
export function blank(value: unknown): boolean {
  return typeof value !== 'string' || value.trim() === '';
}
