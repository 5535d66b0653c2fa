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
