import type { BreakGlassReviewOutcome } from '@custos/request/contracts';

/** Take emergency access now. The catalog's facts and the security approvers come resolved by the application. */
export interface UseBreakGlass {
  type: 'UseBreakGlass';
  data: {
    breakGlassId: string;
    /** Who takes the access (the caller): it is theirs. */
    identityId: string;
    entitlement: string;
    justification: string;
    /** ISO 8601; absent: the cap. */
    duration?: string;
    /** The entitlement's catalog facts. */
    breakGlass: boolean;
    privileged: boolean;
    /** The entitlement's maxDuration; default PT1H for break-glass. */
    maxDuration?: string;
    /** The caller's token's `amr`: a privileged entitlement needs `mfa`. */
    amr: readonly string[];
    /** The active holders of `custos:security`: told of the use, they review it. */
    securityApprovers: readonly string[];
    /** How long the review may wait before it escalates (default PT24H). */
    reviewWindow?: string;
    now: string;
  };
}

/** The entitlement context granted the break-glass access. */
export interface RecordBreakGlassFulfilment {
  type: 'RecordBreakGlassFulfilment';
  data: { breakGlassId: string; grantId: string; now: string };
}

/** A security approver completes the post-incident review. */
export interface ReviewBreakGlass {
  type: 'ReviewBreakGlass';
  data: { breakGlassId: string; reviewerId: string; outcome: BreakGlassReviewOutcome; comment: string; amr: readonly string[]; now: string };
}

/** Sent by the scheduler at `reviewDueAt`: an open review escalates to `escalateTo` (e.g. the security approvers' managers). */
export interface EscalateBreakGlassReview {
  type: 'EscalateBreakGlassReview';
  data: { breakGlassId: string; escalateTo: readonly string[]; now: string };
}

export type BreakGlassCommand = UseBreakGlass | RecordBreakGlassFulfilment | ReviewBreakGlass | EscalateBreakGlassReview;
