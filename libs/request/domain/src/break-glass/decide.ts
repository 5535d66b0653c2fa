import type { BreakGlassEvent, BreakGlassReviewRefused } from '@custos/request/contracts';
import {
  BreakGlassAlreadyUsed,
  BreakGlassNotAllowed,
  BreakGlassNotFound,
  DurationExceedsMaximum,
  ReviewCompleted,
  StepUpRequired,
  ValidationFailed,
  type FieldError,
} from '../errors';
import { hasStepUp } from '../policies/approval';
import { DEFAULT_BREAK_GLASS_MAX_DURATION, DEFAULT_BREAK_GLASS_REVIEW_WINDOW, addDuration, durationError, exceedsDuration } from '../policies/duration';
import { blank, instantOf, isAtOrAfter, unique } from '../shared/time';
import type { BreakGlassCommand, EscalateBreakGlassReview, RecordBreakGlassFulfilment, ReviewBreakGlass, UseBreakGlass } from './commands';
import type { BreakGlassState } from './state';

/** decide: break-glass access is taken at once and reviewed afterwards, by someone else, once. */
export function decide(command: BreakGlassCommand, state: BreakGlassState): BreakGlassEvent[] {
  switch (command.type) {
    case 'UseBreakGlass':
      return use(command, state);
    case 'RecordBreakGlassFulfilment':
      return recordFulfilment(command, state);
    case 'ReviewBreakGlass':
      return review(command, state);
    case 'EscalateBreakGlassReview':
      return escalate(command, state);
    default: {
      const unexpected: never = command;
      throw new Error(`unknown command ${(unexpected as { type: string }).type}`);
    }
  }
}

/**
 * use: only an entitlement marked `breakGlass`, with a justification, for at most its
 * maxDuration (PT1H by default), after multi-factor login when privileged. No approval: the
 * security approvers (the user left out) are told and must review it within the review window.
 * With no security approver to tell, the use still goes ahead; its review escalates.
 */
function use({ data }: UseBreakGlass, state: BreakGlassState): BreakGlassEvent[] {
  if (state.kind !== 'NoBreakGlass') throw new BreakGlassAlreadyUsed(data.breakGlassId);
  const errors: FieldError[] = [];
  for (const field of ['breakGlassId', 'identityId', 'entitlement', 'justification'] as const) if (blank(data[field])) errors.push({ field, message: 'is required' });
  instantOf(data.now, 'now');
  if (data.duration !== undefined) pushError(errors, durationError(data.now, data.duration, 'duration'));
  if (data.reviewWindow !== undefined) pushError(errors, durationError(data.now, data.reviewWindow, 'reviewWindow'));
  if (errors.length > 0) throw new ValidationFailed(errors);
  if (!data.breakGlass) throw new BreakGlassNotAllowed(data.entitlement);
  if (data.privileged && !hasStepUp(data.amr)) throw new StepUpRequired(data.entitlement, data.identityId);
  const maxDuration = data.maxDuration ?? DEFAULT_BREAK_GLASS_MAX_DURATION;
  const duration = data.duration ?? maxDuration;
  if (exceedsDuration(data.now, duration, maxDuration)) throw new DurationExceedsMaximum(data.entitlement, duration, maxDuration);
  return [
    {
      type: 'BreakGlassUsed',
      data: {
        breakGlassId: data.breakGlassId,
        identityId: data.identityId,
        entitlement: data.entitlement,
        justification: data.justification,
        duration,
        expiresAt: addDuration(data.now, duration),
        privileged: data.privileged,
        reviewerIds: unique(data.securityApprovers ?? []).filter((id) => !blank(id) && id !== data.identityId),
        reviewDueAt: addDuration(data.now, data.reviewWindow ?? DEFAULT_BREAK_GLASS_REVIEW_WINDOW, 'reviewWindow'),
        usedAt: data.now,
      },
    },
  ];
}

function recordFulfilment({ data }: RecordBreakGlassFulfilment, state: BreakGlassState): BreakGlassEvent[] {
  if (state.kind === 'NoBreakGlass') throw new BreakGlassNotFound(data.breakGlassId);
  if (blank(data.grantId)) throw new ValidationFailed([{ field: 'grantId', message: 'is required' }]);
  if (state.grantId !== undefined) return [];
  return [
    {
      type: 'BreakGlassFulfilled',
      data: { breakGlassId: data.breakGlassId, grantId: data.grantId, entitlement: state.use.entitlement, expiresAt: state.use.expiresAt, fulfilledAt: data.now },
    },
  ];
}

/**
 * review: an open review is completed once, with an outcome and a comment, by one of the
 * reviewers (or, once escalated, one of those it escalated to). An attempt by the user, by
 * anyone else, or without `mfa` on a privileged entitlement is recorded (BreakGlassReviewRefused)
 * as refused decisions are (see the request decider).
 */
function review({ data }: ReviewBreakGlass, state: BreakGlassState): BreakGlassEvent[] {
  const errors: FieldError[] = [];
  if (blank(data.reviewerId)) errors.push({ field: 'reviewerId', message: 'is required' });
  if (data.outcome !== 'justified' && data.outcome !== 'not-justified') errors.push({ field: 'outcome', message: 'must be justified or not-justified' });
  if (blank(data.comment)) errors.push({ field: 'comment', message: 'is required' });
  if (errors.length > 0) throw new ValidationFailed(errors);
  if (state.kind === 'NoBreakGlass') throw new BreakGlassNotFound(data.breakGlassId);
  if (state.kind === 'BreakGlassReviewed') {
    if (state.reviewerId === data.reviewerId && state.outcome === data.outcome && state.comment === data.comment) return [];
    throw new ReviewCompleted(data.breakGlassId, state.outcome);
  }
  const refused = (reason: BreakGlassReviewRefused['data']['reason']): BreakGlassReviewRefused[] => [
    { type: 'BreakGlassReviewRefused', data: { breakGlassId: data.breakGlassId, reviewerId: data.reviewerId, reason, refusedAt: data.now } },
  ];
  if (data.reviewerId === state.use.identityId) return refused('self-approval');
  if (![...state.use.reviewerIds, ...state.escalatedTo].includes(data.reviewerId)) return refused('not-eligible-approver');
  if (state.use.privileged && !hasStepUp(data.amr)) return refused('step-up-required');
  return [
    { type: 'BreakGlassReviewed', data: { breakGlassId: data.breakGlassId, reviewerId: data.reviewerId, outcome: data.outcome, comment: data.comment, reviewedAt: data.now } },
  ];
}

/** escalate: a review still open at its due time escalates once; early or late jobs do nothing. */
function escalate({ data }: EscalateBreakGlassReview, state: BreakGlassState): BreakGlassEvent[] {
  if (state.kind === 'NoBreakGlass') throw new BreakGlassNotFound(data.breakGlassId);
  if (state.kind === 'BreakGlassReviewed' || state.escalatedAt !== undefined || !isAtOrAfter(data.now, state.use.reviewDueAt)) return [];
  const escalatedTo = unique(data.escalateTo ?? []).filter((id) => !blank(id) && id !== state.use.identityId);
  return [{ type: 'BreakGlassReviewEscalated', data: { breakGlassId: data.breakGlassId, escalatedTo, escalatedAt: data.now } }];
}

function pushError(errors: FieldError[], error: FieldError | undefined): void {
  if (error) errors.push(error);
}
