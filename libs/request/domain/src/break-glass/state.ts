import type { BreakGlassReviewOutcome, BreakGlassUsed } from '@custos/request/contracts';

export type BreakGlassFacts = BreakGlassUsed['data'];

export interface NoBreakGlass {
  kind: 'NoBreakGlass';
}

/** Used; the review is open (escalated once past its due time). */
export interface BreakGlassAwaitingReview {
  kind: 'BreakGlassAwaitingReview';
  use: BreakGlassFacts;
  grantId?: string;
  escalatedTo: string[];
  escalatedAt?: string;
}

export interface BreakGlassReviewed {
  kind: 'BreakGlassReviewed';
  use: BreakGlassFacts;
  grantId?: string;
  reviewerId: string;
  outcome: BreakGlassReviewOutcome;
  comment: string;
  reviewedAt: string;
}

export type BreakGlassState = NoBreakGlass | BreakGlassAwaitingReview | BreakGlassReviewed;

/** initialState: nobody broke the glass yet. */
export function initialState(): BreakGlassState {
  return { kind: 'NoBreakGlass' };
}
