import type { DomainEvent } from '@custos/platform/domain';
import type { SodConflict } from './sod-policy-events';

export type GrantSource = 'birthright' | 'request' | 'break-glass' | 'admin';

export type RevokeReason =
  | 'leaver'
  | 'mover'
  | 'expired'
  | 'request-revoked'
  | 'review'
  | 'admin'
  | 'role-changed'
  | 'rule-changed';

/** One grant an identity holds. An entitlement may be held through several grants (sources). */
export interface Grant {
  grantId: string;
  entitlement: string;
  source: GrantSource;
  /** The role the entitlement came with (birthright, or a role request). */
  role?: string;
  /** The birthright rule that granted it. */
  ruleKey?: string;
  requestId?: string;
  grantedAt: string;
  expiresAt?: string;
  /** Why it was granted: the lifecycle step (`joiner`, `mover`...) or the requester's justification. */
  reason: string;
}

export type AccessGranted = DomainEvent<'AccessGranted', Grant & { identityId: string }>;

export type AccessRevoked = DomainEvent<
  'AccessRevoked',
  {
    grantId: string;
    identityId: string;
    entitlement: string;
    source: GrantSource;
    reason: RevokeReason;
    revokedAt: string;
    detail?: string;
  }
>;

/**
 * A just-in-time grant of an access request runs longer: an extension of the request was
 * approved. The grant keeps its id; from this event on it ends at `expiresAt` (later than
 * `previousExpiresAt`). `round` is the request's extension round that approved it.
 */
export type AccessExtended = DomainEvent<
  'AccessExtended',
  {
    grantId: string;
    identityId: string;
    entitlement: string;
    requestId: string;
    round: number;
    previousExpiresAt: string;
    expiresAt: string;
    /** The extension's justification. */
    reason: string;
    /** Who approved the extension last. */
    extendedBy: string;
    extendedAt: string;
  }
>;

/** The identity left: emitted before its revocations, so a check denies from this event on. */
export type AccessTerminated = DomainEvent<'AccessTerminated', { identityId: string; at: string }>;

/** The identity was rehired: grants may be given again. */
export type AccessReinstated = DomainEvent<'AccessReinstated', { identityId: string; at: string }>;

/** Requested (non-birthright) access kept across a move, listed for review. `moveId` is the move's command id. */
export type MoverReviewFlagged = DomainEvent<
  'MoverReviewFlagged',
  { identityId: string; grantIds: string[]; moveId: string; flaggedAt: string }
>;

/**
 * A grant that creates violations of `approve` SoD policies was given as an approved exception:
 * recorded next to its AccessGranted, naming the conflicts it created, why, and who approved it.
 */
export type SodExceptionRecorded = DomainEvent<
  'SodExceptionRecorded',
  {
    identityId: string;
    grantId: string;
    entitlement: string;
    conflicts: SodConflict[];
    reason: string;
    approvedBy: string;
    recordedAt: string;
  }
>;

export type AccessEvent = AccessGranted | AccessRevoked | AccessExtended | AccessTerminated | AccessReinstated | MoverReviewFlagged | SodExceptionRecorded;
