import type { RequestContextEvent } from './request-context-event';
/** requestStreamId: each access request (its approval rounds, its grant and the grant's end) is its own stream. */
export function requestStreamId(requestId: string): string {
  return `request-${requestId}`;
}

/** breakGlassStreamId: each break-glass use and its post-incident review is its own stream. */
export function breakGlassStreamId(breakGlassId: string): string {
  return `break-glass-${breakGlassId}`;
}

/** delegationStreamId: all delegations of one approver live in one stream, so overlaps are decided against them all. */
export function delegationStreamId(approverId: string): string {
  return `delegation-${approverId}`;
}

/**
 * The stream categories of the request context, for subscription filters (`streamPrefixes`)
 * only: build a stream id with the functions above.
 */
export const REQUEST_STREAM_PREFIXES = {
  request: 'request-',
  breakGlass: 'break-glass-',
  delegation: 'delegation-',
} as const;

/**
 * The identity a request-context event concerns, as its payload names it: the beneficiary of a
 * request (on the events that carry it), the user of a break-glass access. Decisions, delegations
 * and reviews concern their request or approver, not an identity's access.
 */
export function identityConcernedByRequestEvent(event: { name?: string; data: unknown }): string | undefined {
  const e = { type: event.name, data: event.data } as RequestContextEvent;
  switch (e.type) {
    case 'RequestSubmitted':
    case 'RequestApproved':
    case 'ExtensionApproved':
    case 'AccessRevokedEarly':
      return e.data.beneficiaryId;
    case 'BreakGlassUsed':
      return e.data.identityId;
    default:
      return undefined;
  }
}
