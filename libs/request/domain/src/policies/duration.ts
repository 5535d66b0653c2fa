import { isoDurationEnd, LONGEST_DURATION } from '@custos/platform/domain';
import { ValidationFailed, type FieldError } from '../errors';
import { instantOf } from '../shared/time';

/* ISO 8601 durations as every context reads them: the domain kit's (positive, at most ten years). */

/** The default cap of a privileged entitlement's just-in-time access. */
export const DEFAULT_PRIVILEGED_MAX_DURATION = 'PT8H';
/** The default cap of break-glass access. */
export const DEFAULT_BREAK_GLASS_MAX_DURATION = 'PT1H';
/** The default approval SLA of a step: past it the step escalates, past twice it the round expires. */
export const DEFAULT_APPROVAL_SLA = 'PT48H';
/** The default time a security approver has to review a break-glass use before it escalates. */
export const DEFAULT_BREAK_GLASS_REVIEW_WINDOW = 'PT24H';
export { LONGEST_DURATION } from '@custos/platform/domain';

/** durationError: a positive ISO 8601 duration of at most ten years from `at`, or the error naming `field`. */
export function durationError(at: string, duration: unknown, field: string): FieldError | undefined {
  const result = isoDurationEnd(instantOf(at, 'now'), duration);
  if (!('problem' in result)) return undefined;
  return result.problem === 'invalid'
    ? { field, message: `not a positive ISO 8601 duration: ${String(duration)}` }
    : { field, message: `must be at most ${LONGEST_DURATION} (ten years): ${String(duration)}` };
}

/** addDuration: the instant `duration` after `at` (UTC; Jan 31 + P1M = Feb 28/29). A bad duration is refused naming `field`. */
export function addDuration(at: string, duration: string, field = 'duration'): string {
  const result = isoDurationEnd(instantOf(at, 'now'), duration);
  if ('problem' in result) throw new ValidationFailed([durationError(at, duration, field)!]);
  return new Date(result.end).toISOString();
}

/** exceedsDuration: whether `duration` from `at` ends after `maximum` from `at` (a maximum that is no duration caps at ten years). */
export function exceedsDuration(at: string, duration: string, maximum: string): boolean {
  const cap = durationError(at, maximum, 'maxDuration') ? addDuration(at, LONGEST_DURATION) : addDuration(at, maximum);
  return instantOf(addDuration(at, duration), 'duration') > instantOf(cap, 'maxDuration');
}
