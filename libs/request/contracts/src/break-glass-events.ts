import type { DomainEvent } from '@custos/platform/domain';
import type { RefusalReason } from './approval';

/*
 * The events of one break-glass use (stream `break-glass-{breakGlassId}`): immediate access to an
 * entitlement marked `breakGlass`, then a mandatory post-incident review by a security approver.
 */

/** Access taken in an emergency: the request service grants it at once until `expiresAt`; `reviewerIds` are told. */
export type BreakGlassUsed = DomainEvent<
  'BreakGlassUsed',
  {
    breakGlassId: string;
    identityId: string;
    entitlement: string;
    justification: string;
    duration: string;
    expiresAt: string;
    privileged: boolean;
    /** The security approvers who may review it (holders of `custos:security`, the user excluded). */
    reviewerIds: string[];
    /** The review is due within PT24H (or as configured); past it, it escalates. */
    reviewDueAt: string;
    usedAt: string;
  }
>;

export type BreakGlassFulfilled = DomainEvent<
  'BreakGlassFulfilled',
  { breakGlassId: string; grantId: string; entitlement: string; expiresAt: string; fulfilledAt: string }
>;

/** The review was not done in time: `escalatedTo` may review it too. */
export type BreakGlassReviewEscalated = DomainEvent<'BreakGlassReviewEscalated', { breakGlassId: string; escalatedTo: string[]; escalatedAt: string }>;

export type BreakGlassReviewOutcome = 'justified' | 'not-justified';

export type BreakGlassReviewed = DomainEvent<
  'BreakGlassReviewed',
  { breakGlassId: string; reviewerId: string; outcome: BreakGlassReviewOutcome; comment: string; reviewedAt: string }
>;

/** A review attempt was refused, recorded like a refused decision; the edge answers the error of `reason` (403). */
export type BreakGlassReviewRefused = DomainEvent<
  'BreakGlassReviewRefused',
  { breakGlassId: string; reviewerId: string; reason: RefusalReason; refusedAt: string }
>;

export type BreakGlassEvent = BreakGlassUsed | BreakGlassFulfilled | BreakGlassReviewEscalated | BreakGlassReviewed | BreakGlassReviewRefused;
