/** The prefix of every identity stream id; catch-up readers filter on it. */
export const IDENTITY_STREAM_PREFIX = 'identity-';

/** identityStreamId names the one stream that holds an identity's events: `identity-{identityId}`. */
export function identityStreamId(identityId: string): string {
  return `${IDENTITY_STREAM_PREFIX}${identityId}`;
}

/** The identity an identity-context event concerns: the one whose stream holds it. */
export function identityConcernedByIdentityEvent(event: { subject: string }): string | undefined {
  return event.subject.startsWith(IDENTITY_STREAM_PREFIX) ? event.subject.slice(IDENTITY_STREAM_PREFIX.length) : undefined;
}
