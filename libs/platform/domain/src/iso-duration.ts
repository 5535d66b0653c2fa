/**
 * ISO 8601 durations as every context reads them: positive, years and months as calendar steps
 * (Jan 31 + P1M = Feb 28/29, in UTC), weeks, days, hours, minutes and (fractions of) seconds as
 * exact time, and never longer than ten years (`LONGEST_DURATION`), which also keeps the
 * arithmetic far from the range of a Date. Pure: the contexts word their own errors.
 */

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

/** The longest duration Custos accepts anywhere (a grant, a request, an entitlement's maxDuration). */
export const LONGEST_DURATION = 'P10Y';
const MAX_YEARS = 10;

/**
 * Upper bounds of each part: a part above its bound makes a duration longer than ten years by
 * itself, and checking them first keeps the arithmetic below far from the range of a Date.
 */
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

/** parseIsoDuration: the parts of an ISO 8601 duration longer than zero, or null. */
export function parseIsoDuration(text: unknown): IsoDuration | null {
  if (typeof text !== 'string') return null;
  const match = PATTERN.exec(text);
  if (!match) return null;
  const [years, months, weeks, days, hours, minutes] = match.slice(1, 7).map((part) => Number(part ?? 0));
  const seconds = Number((match[7] ?? '0').replace(',', '.'));
  const duration = { years, months, weeks, days, hours, minutes, seconds };
  return Object.values(duration).some((part) => part > 0) ? duration : null;
}

/**
 * isoDurationEnd: the instant (ms) `duration` after `startMs`, or why there is none: `invalid`
 * (not a positive ISO 8601 duration) or `too-long` (past ten years from the start).
 */
export function isoDurationEnd(startMs: number, duration: unknown): { end: number } | { problem: 'invalid' | 'too-long' } {
  const parts = parseIsoDuration(duration);
  if (!parts) return { problem: 'invalid' };
  if ((Object.keys(PART_BOUNDS) as Array<keyof IsoDuration>).some((part) => !Number.isFinite(parts[part]) || parts[part] > PART_BOUNDS[part])) return { problem: 'too-long' };
  const end = endAfter(startMs, parts);
  if (!Number.isFinite(end) || end > endAfter(startMs, { ...ZERO, years: MAX_YEARS })) return { problem: 'too-long' };
  return { end };
}

function endAfter(startMs: number, parts: IsoDuration): number {
  const start = new Date(startMs);
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
  // A Date holds at most ±8.64e15 ms: beyond it the end is NaN, which isoDurationEnd refuses.
  return new Date(calendar + Math.round(exact)).getTime();
}
