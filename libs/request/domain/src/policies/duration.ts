import { ValidationFailed, type FieldError } from '../errors';
import { instantOf } from '../shared/time';

/*
 * ISO 8601 durations, as the entitlement context reads them (its policies/duration.ts; a domain
 * reaches no other context's domain, so the rules are repeated here and must stay alike):
 * positive, at most ten years, years and months as calendar steps, down to (fractions of) seconds.
 */

interface IsoDuration {
  years: number;
  months: number;
  weeks: number;
  days: number;
  hours: number;
  minutes: number;
  seconds: number;
}

/** The default cap of a privileged entitlement's just-in-time access. */
export const DEFAULT_PRIVILEGED_MAX_DURATION = 'PT8H';
/** The default cap of break-glass access. */
export const DEFAULT_BREAK_GLASS_MAX_DURATION = 'PT1H';
/** The default approval SLA of a step: past it the step escalates, past twice it the round expires. */
export const DEFAULT_APPROVAL_SLA = 'PT48H';
/** The default time a security approver has to review a break-glass use before it escalates. */
export const DEFAULT_BREAK_GLASS_REVIEW_WINDOW = 'PT24H';
/** The longest duration Custos accepts anywhere. */
export const LONGEST_DURATION = 'P10Y';
const MAX_YEARS = 10;

const PART_BOUNDS: IsoDuration = {
  years: MAX_YEARS,
  months: MAX_YEARS * 12,
  weeks: MAX_YEARS * 53,
  days: MAX_YEARS * 366,
  hours: MAX_YEARS * 366 * 24,
  minutes: MAX_YEARS * 366 * 24 * 60,
  seconds: MAX_YEARS * 366 * 24 * 3600,
};
const ZERO: IsoDuration = { years: 0, months: 0, weeks: 0, days: 0, hours: 0, minutes: 0, seconds: 0 };

const PATTERN = /^P(?!$)(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?=\d)(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:[.,]\d+)?)S)?)?$/;

function parse(text: unknown): IsoDuration | null {
  if (typeof text !== 'string') return null;
  const match = PATTERN.exec(text);
  if (!match) return null;
  const [years, months, weeks, days, hours, minutes] = match.slice(1, 7).map((part) => Number(part ?? 0));
  const seconds = Number((match[7] ?? '0').replace(',', '.'));
  const duration = { years, months, weeks, days, hours, minutes, seconds };
  return Object.values(duration).some((part) => part > 0) ? duration : null;
}

/** durationError: a positive ISO 8601 duration of at most ten years from `at`, or the error naming `field`. */
export function durationError(at: string, duration: unknown, field: string): FieldError | undefined {
  const parts = parse(duration);
  if (!parts) return { field, message: `not a positive ISO 8601 duration: ${String(duration)}` };
  const tooLong = { field, message: `must be at most ${LONGEST_DURATION} (ten years): ${String(duration)}` };
  if ((Object.keys(PART_BOUNDS) as Array<keyof IsoDuration>).some((part) => !Number.isFinite(parts[part]) || parts[part] > PART_BOUNDS[part])) return tooLong;
  const end = endAfter(at, parts);
  if (!Number.isFinite(end) || end > endAfter(at, { ...ZERO, years: MAX_YEARS })) return tooLong;
  return undefined;
}

/** addDuration: the instant `duration` after `at` (UTC; Jan 31 + P1M = Feb 28/29). A bad duration is refused naming `field`. */
export function addDuration(at: string, duration: string, field = 'duration'): string {
  const error = durationError(at, duration, field);
  if (error) throw new ValidationFailed([error]);
  return new Date(endAfter(at, parse(duration)!)).toISOString();
}

/** exceedsDuration: whether `duration` from `at` ends after `maximum` from `at` (a maximum that is no duration caps at ten years). */
export function exceedsDuration(at: string, duration: string, maximum: string): boolean {
  const cap = durationError(at, maximum, 'maxDuration') ? addDuration(at, LONGEST_DURATION) : addDuration(at, maximum);
  return instantOf(addDuration(at, duration), 'duration') > instantOf(cap, 'maxDuration');
}

function endAfter(at: string, parts: IsoDuration): number {
  const start = new Date(instantOf(at, 'now'));
  const monthIndex = start.getUTCFullYear() * 12 + start.getUTCMonth() + parts.years * 12 + parts.months;
  const year = Math.floor(monthIndex / 12);
  const month = monthIndex - year * 12;
  const lastDay = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
  const calendar = Date.UTC(
    year,
    month,
    Math.min(start.getUTCDate(), lastDay),
    start.getUTCHours(),
    start.getUTCMinutes(),
    start.getUTCSeconds(),
    start.getUTCMilliseconds(),
  );
  const exact = ((((parts.weeks * 7 + parts.days) * 24 + parts.hours) * 60 + parts.minutes) * 60 + parts.seconds) * 1000;
  return new Date(calendar + Math.round(exact)).getTime();
}
