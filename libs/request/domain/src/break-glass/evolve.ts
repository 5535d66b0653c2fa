import type { BreakGlassEvent } from '@custos/request/contracts';
import type { BreakGlassState } from './state';

/** evolve: a use awaits its review; the grant id and an escalation are noted; the review closes it. */
export function evolve(state: BreakGlassState, event: BreakGlassEvent): BreakGlassState {
  switch (event.type) {
    case 'BreakGlassUsed':
      return { kind: 'BreakGlassAwaitingReview', use: event.data, escalatedTo: [] };
    case 'BreakGlassFulfilled':
      return state.kind === 'NoBreakGlass' ? state : { ...state, grantId: event.data.grantId };
    case 'BreakGlassReviewEscalated':
      return state.kind === 'BreakGlassAwaitingReview' ? { ...state, escalatedTo: event.data.escalatedTo, escalatedAt: event.data.escalatedAt } : state;
    case 'BreakGlassReviewed':
      if (state.kind !== 'BreakGlassAwaitingReview') return state;
      return {
        kind: 'BreakGlassReviewed',
        use: state.use,
        ...(state.grantId !== undefined && { grantId: state.grantId }),
        reviewerId: event.data.reviewerId,
        outcome: event.data.outcome,
        comment: event.data.comment,
        reviewedAt: event.data.reviewedAt,
      };
    case 'BreakGlassReviewRefused':
      return state;
    default: {
      const unexpected: never = event;
      return unexpected;
    }
  }
}
