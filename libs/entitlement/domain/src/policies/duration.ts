import { isoDurationEnd, LONGEST_DURATION } from '@custos/platform/domain';
import { ValidationFailed, type FieldError } from '../errors';
import { instantOf } from '../shared/time';

export { parseIsoDuration, type IsoDuration } from '@custos/platform/domain';

/** The longest duration Custos accepts anywhere (a grant's `duration`, an entitlement's `maxDuration`). */
export const MAX_DURATION = LONGEST_DURATION;

/**
 * durationError: a duration is a positive ISO 8601 duration of at most ten years (MAX_DURATION)
 * from `at`; anything else is named as a bad `field`. Durations like `P300000Y` would otherwise
 * overflow a Date.
 */
export function durationError(at: string, duration: string, field: string): FieldError | undefined {
  const result = isoDurationEnd(instantOf(at, 'at'), duration);
  if (!('problem' in result)) return undefined;
  return result.problem === 'invalid'
    ? { field, message: `not a positive ISO 8601 duration: ${String(duration)}` }
    : { field, message: `must be at most ${MAX_DURATION} (ten years): ${duration}` };
}

/**
 * addIsoDuration: the instant a duration after `at`, in UTC; years and months are calendar
 * steps that keep the day of month, clamped to the month's last day (Jan 31 + P1M = Feb 28/29).
 * A duration that is not one, or is longer than ten years, is refused naming `field`.
 */
export function addIsoDuration(at: string, duration: string, field = 'duration'): string {
  const result = isoDurationEnd(instantOf(at, 'at'), duration);
  if ('problem' in result) throw new ValidationFailed([durationError(at, duration, field)!]);
  return new Date(result.end).toISOString();
}

/**
 * latestExpiryOf: the latest end an entitlement's `maxDuration` allows for a grant given at
 * `now`. A stored maxDuration that is not a duration of at most ten years (written before they
 * were bounded) caps at ten years, the bound of every grant, instead of failing each grant.
 */
export function latestExpiryOf(now: string, maxDuration: string): string {
  return durationError(now, maxDuration, 'maxDuration') ? addIsoDuration(now, MAX_DURATION) : addIsoDuration(now, maxDuration);
}
