import { ValidationFailed, type FieldError } from '../errors';
import { instantOf } from '../shared/time';

/** The parts of an ISO 8601 duration (`P1Y2M3W4DT5H6M7.5S`). */
export interface IsoDuration {
  years: number;
  months: number;
  weeks: number;
  days: number;
  hours: number;
  minutes: number;
  seconds: number;
}

/** The longest duration Custos accepts anywhere (a grant's `duration`, an entitlement's `maxDuration`). */
export const MAX_DURATION = 'P10Y';
const MAX_YEARS = 10;

/**
 * Upper bounds of each part: a part above its bound makes a duration longer than ten years by
 * itself, and checking them first keeps the arithmetic below far from the range of a Date.
 */
const PART_BOUNDS: IsoDuration = { years: MAX_YEARS, months: MAX_YEARS * 12, weeks: MAX_YEARS * 53, days: MAX_YEARS * 366, hours: MAX_YEARS * 366 * 24, minutes: MAX_YEARS * 366 * 24 * 60, seconds: MAX_YEARS * 366 * 24 * 3600 };

const PATTERN =
  /^P(?!$)(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?=\d)(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:[.,]\d+)?)S)?)?$/;

/** parseIsoDuration: accepts ISO 8601 durations longer than zero, or returns null. */
export function parseIsoDuration(text: string): IsoDuration | null {
  const match = PATTERN.exec(text);
  if (!match) return null;
  const [years, months, weeks, days, hours, minutes] = match.slice(1, 7).map((part) => Number(part ?? 0));
  const seconds = Number((match[7] ?? '0').replace(',', '.'));
  const duration = { years, months, weeks, days, hours, minutes, seconds };
  return Object.values(duration).some((part) => part > 0) ? duration : null;
}

/**
 * durationError: a duration is a positive ISO 8601 duration of at most ten years (MAX_DURATION)
 * from `at`; anything else is named as a bad `field`. Durations like `P300000Y` would otherwise
 * overflow a Date.
 */
export function durationError(at: string, duration: string, field: string): FieldError | undefined {
  const parts = typeof duration === 'string' ? parseIsoDuration(duration) : null;
  if (!parts) return { field, message: `not a positive ISO 8601 duration: ${String(duration)}` };
  const tooLong = { field, message: `must be at most ${MAX_DURATION} (ten years): ${duration}` };
  if ((Object.keys(PART_BOUNDS) as Array<keyof IsoDuration>).some((part) => !Number.isFinite(parts[part]) || parts[part] > PART_BOUNDS[part])) return tooLong;
  const end = endAfter(at, parts);
  if (!Number.isFinite(end) || end > endAfter(at, { ...ZERO, years: MAX_YEARS })) return tooLong;
  return undefined;
}

/**
 * addIsoDuration: the instant a duration after `at`, in UTC; years and months are calendar
 * steps that keep the day of month, clamped to the month's last day (Jan 31 + P1M = Feb 28/29).
 * A duration that is not one, or is longer than ten years, is refused naming `field`.
 */
export function addIsoDuration(at: string, duration: string, field = 'duration'): string {
  const error = durationError(at, duration, field);
  if (error) throw new ValidationFailed([error]);
  return new Date(endAfter(at, parseIsoDuration(duration)!)).toISOString();
}

/**
 * latestExpiryOf: the latest end an entitlement's `maxDuration` allows for a grant given at
 * `now`. A stored maxDuration that is not a duration of at most ten years (written before they
 * were bounded) caps at ten years, the bound of every grant, instead of failing each grant.
 */
export function latestExpiryOf(now: string, maxDuration: string): string {
  return durationError(now, maxDuration, 'maxDuration') ? addIsoDuration(now, MAX_DURATION) : addIsoDuration(now, maxDuration);
}

const ZERO: IsoDuration = { years: 0, months: 0, weeks: 0, days: 0, hours: 0, minutes: 0, seconds: 0 };

function endAfter(at: string, parts: IsoDuration): number {
  const start = new Date(instantOf(at, 'at'));
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
  // A Date holds at most ±8.64e15 ms: beyond it the end is NaN, which the caller refuses.
  return new Date(calendar + Math.round(exact)).getTime();
}
