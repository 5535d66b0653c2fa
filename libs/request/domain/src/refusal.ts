import type { RequestContextEvent } from '@custos/request/contracts';
import { refusalError, type NotEligibleApprover, type SelfApproval, type StepUpRequired } from './errors';

/**
 * refusalOf: the error to answer with when decided events record a refused attempt
 * (DecisionRefused, BreakGlassReviewRefused), after they were appended; undefined otherwise.
 */
export function refusalOf(events: readonly RequestContextEvent[]): SelfApproval | NotEligibleApprover | StepUpRequired | undefined {
  for (const event of events) {
    if (event.type === 'DecisionRefused') return refusalError(event.data.reason, event.data.requestId, event.data.approverId);
    if (event.type === 'BreakGlassReviewRefused') return refusalError(event.data.reason, event.data.breakGlassId, event.data.reviewerId);
  }
  return undefined;
}
