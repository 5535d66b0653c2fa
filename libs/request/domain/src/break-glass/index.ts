import type { BreakGlassEvent } from '@custos/request/contracts';
import type { Decider } from '@custos/platform/domain';
import type { BreakGlassCommand } from './commands';
import { decide } from './decide';
import { evolve } from './evolve';
import { initialState, type BreakGlassState } from './state';

export * from './commands';
export type { BreakGlassState, NoBreakGlass, BreakGlassAwaitingReview, BreakGlassReviewed, BreakGlassFacts } from './state';

/**
 * breakGlassDecider: one break-glass use and its post-incident review (stream `break-glass-{breakGlassId}`).
 *
 *     NoBreakGlass --UseBreakGlass--> BreakGlassAwaitingReview --ReviewBreakGlass--> BreakGlassReviewed
 *                                     (RecordBreakGlassFulfilment notes the grant; EscalateBreakGlassReview at reviewDueAt, once)
 *
 * A use is its own aggregate, not a request: it has no approval round, and its review has its
 * own reviewers, deadline and escalation. BreakGlassUsed carries what GrantAccess (source
 * `break-glass`) needs: identityId, entitlement, expiresAt. Refused review attempts are recorded
 * as BreakGlassReviewRefused and answered with `refusalOf(events)`, as refused decisions are.
 */
export const breakGlassDecider: Decider<BreakGlassCommand, BreakGlassEvent, BreakGlassState> = { initialState, decide, evolve };
