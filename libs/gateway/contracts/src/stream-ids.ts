/** sessionStreamId: each gateway session (or refused attempt) is its own stream, its recording. */
export function sessionStreamId(sessionId: string): string {
  return `session-${sessionId}`;
}

/** The gateway's stream categories, for subscription filters only: build a stream id with the function above. */
export const GATEWAY_STREAM_PREFIXES = ['session-'] as const;
