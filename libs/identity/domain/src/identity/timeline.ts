import { InvalidTimestamp } from '../errors';

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i;

/** requireTimestamp refuses a time that is not RFC 3339, because every ordering rule compares times. */
export function requireTimestamp(field: string, value: string): string {
  if (typeof value !== 'string' || !RFC3339.test(value) || Number.isNaN(Date.parse(value))) {
    throw new InvalidTimestamp(field, value);
  }
  return value;
}

/** isBefore compares two RFC 3339 times as instants, not as strings (offsets and fractions differ). */
export function isBefore(a: string, b: string): boolean {
  return Date.parse(a) < Date.parse(b);
}

/** latest returns the later of two times. */
export function latest(a: string, b: string): string {
  return isBefore(a, b) ? b : a;
}

/**
 * timelinePosition places a change on HR's timeline: at its effective time, or at the time it
 * was recorded when it is future-dated. A future-dated record states what HR knew when it
 * entered it, so a change recorded later but effective before that start date (a pre-start
 * department change) is newer knowledge, not stale.
 */
export function timelinePosition(effectiveAt: string, recordedAt: string): string {
  return isBefore(recordedAt, effectiveAt) ? recordedAt : effectiveAt;
}
