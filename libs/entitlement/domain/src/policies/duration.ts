import { ValidationFailed } from '../shared/errors';
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
 * addIsoDuration: the instant a duration after `at`, in UTC; years and months are calendar
 * steps that keep the day of month, clamped to the month's last day (Jan 31 + P1M = Feb 28/29).
 */
export function addIsoDuration(at: string, duration: string): string {
  const parts = parseIsoDuration(duration);
  if (!parts) throw new ValidationFailed([{ field: 'duration', message: `not a positive ISO 8601 duration: ${duration}` }]);
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
  return new Date(calendar + Math.round(exact)).toISOString();
}
