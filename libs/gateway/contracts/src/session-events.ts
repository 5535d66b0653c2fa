import type { DomainEvent } from '@custos/platform/domain';

/** Why a session ended. */
export type SessionEndReason =
  /** The client sent Terminate or closed its connection. */
  | 'client-closed'
  /** The upstream server closed the connection (or it failed). */
  | 'upstream-closed'
  /** The grant behind the session ended (expiry, revoke, review) and no other grant allows the target. */
  | 'grant-ended'
  /** The identity left: every session of a leaver is cut. */
  | 'leaver'
  /** A security approver ended it (POST /sessions/{id}/terminate). */
  | 'terminated'
  /** The client sent a message the gateway does not understand: it is closed, never forwarded blindly. */
  | 'protocol-violation'
  /** The gateway shut down cleanly. */
  | 'gateway-stopped';

/** Why a connection was refused before a session began. */
export type SessionRefusalReason = 'invalid-token' | 'expired-token' | 'replayed-token' | 'wrong-user' | 'wrong-target' | 'no-grant' | 'tls-required' | 'unknown-target' | 'upstream-unavailable';

/** One statement as the gateway saw it pass. */
export interface RecordedStatement {
  /** 1, 2, 3... in the order the client sent them; never reused within a session. */
  seq: number;
  /** `simple` (a Query message, possibly several statements) or `extended` (Parse/Bind/Execute). */
  protocol: 'simple' | 'extended';
  text: string;
  /** Bind parameters as text, after the redaction rule ("[redacted]" for those it matched); absent for the simple protocol. */
  parameters?: Array<string | null>;
  startedAt: string;
  durationMs: number;
  /** The command tag's verb (`SELECT`, `INSERT`...) and its row count, when it completed. */
  command?: string;
  rows?: number;
  /** The upstream's error, when it failed: SQLSTATE and message. */
  error?: { code: string; message: string };
}

/**
 * A privileged session began: who connected to which target, through which grants (and the
 * requests behind them), from where, as which upstream account, on which gateway instance.
 */
export type SessionStarted = DomainEvent<
  'SessionStarted',
  {
    sessionId: string;
    identityId: string;
    target: string;
    database: string;
    grantIds: string[];
    requestIds: string[];
    /** The entitlements on the target that allowed it. */
    entitlements: string[];
    /** When the access that allowed it ends, if it does. */
    expiresAt?: string;
    clientAddress: string;
    /** The account the gateway logged in as upstream (never its password). */
    upstreamUser: string;
    /** The gateway process that holds the connection: on restart it marks its own unfinished sessions incomplete. */
    gatewayId: string;
    startedAt: string;
  }
>;

/**
 * Statements of a session, appended in batches as they complete, in order. Every event of a
 * session names its identity, so that the audit log files each under the person who ran it.
 */
export type StatementsRecorded = DomainEvent<'StatementsRecorded', { sessionId: string; identityId: string; statements: RecordedStatement[] }>;

/** The session ended: why, by whom (a security approver's identity, `system:gateway`...), after how many statements. */
export type SessionEnded = DomainEvent<
  'SessionEnded',
  { sessionId: string; identityId: string; reason: SessionEndReason; endedBy: string; detail?: string; statements: number; endedAt: string }
>;

/**
 * The gateway that held the session stopped without ending it (a crash): statements it forwarded
 * after its last recorded batch may be missing. `statements` is how many are recorded.
 */
export type SessionMarkedIncomplete = DomainEvent<
  'SessionMarkedIncomplete',
  { sessionId: string; identityId: string; gatewayId: string; statements: number; markedAt: string }
>;

/** A connection to the gateway was refused before any session began (a wrong, expired or replayed token...): the attempt, audited. */
export type SessionRefused = DomainEvent<
  'SessionRefused',
  { sessionId: string; user: string; target: string; reason: SessionRefusalReason; clientAddress: string; refusedAt: string }
>;

export type SessionEvent = SessionStarted | StatementsRecorded | SessionEnded | SessionMarkedIncomplete | SessionRefused;

/**
 * The identity a gateway event concerns, for the audit log: the person whose session it is. A
 * refused attempt names only the user the client claimed to be, which is no verified identity.
 */
export function identityConcernedByGatewayEvent(event: { name?: string; data: unknown }): string | undefined {
  const e = { type: event.name, data: event.data } as SessionEvent;
  switch (e.type) {
    case 'SessionStarted':
    case 'StatementsRecorded':
    case 'SessionEnded':
    case 'SessionMarkedIncomplete':
      return typeof e.data.identityId === 'string' ? e.data.identityId : undefined;
    default:
      return undefined;
  }
}
