import type { DomainEvent } from '@custos/platform/domain';

/** Why a just-in-time account ends: its grant's end (the entitlement context's revoke reason), or the reconciliation. */
export type JitAccountEndReason = string;

/**
 * A grant of a target-linked entitlement started: a login role `username` is to exist on
 * `target`, a member of `targetRole`, valid until the grant's end; its password is version 1 of
 * jitAccountSecretId(grantId) until delivered.
 */
export type JitAccountRequested = DomainEvent<
  'JitAccountRequested',
  {
    grantId: string;
    identityId: string;
    entitlement: string;
    target: string;
    targetRole: string;
    username: string;
    requestId?: string;
    /** The grant's end; absent: the grant has none. */
    expiresAt?: string;
    requestedAt: string;
  }
>;

/** The role exists on the target. */
export type JitAccountCreated = DomainEvent<'JitAccountCreated', { grantId: string; target: string; username: string; createdAt: string }>;

/** The grant was extended (an approved extension): the role stays valid until the new end. */
export type JitAccountExtended = DomainEvent<'JitAccountExtended', { grantId: string; expiresAt: string; extendedAt: string }>;

/** The beneficiary fetched the credential; the vault no longer holds it. */
export type JitCredentialDelivered = DomainEvent<'JitCredentialDelivered', { grantId: string; identityId: string; deliveredAt: string }>;

/** The grant ended: the role is to be disabled, its sessions terminated and the role dropped. */
export type JitAccountEnding = DomainEvent<'JitAccountEnding', { grantId: string; target: string; username: string; reason: JitAccountEndReason; endingAt: string }>;

/** The role is gone from the target, after `sessionsTerminated` live sessions of it were ended. */
export type JitAccountDropped = DomainEvent<'JitAccountDropped', { grantId: string; target: string; username: string; sessionsTerminated: number; droppedAt: string }>;

export type JitAccountEvent = JitAccountRequested | JitAccountCreated | JitAccountExtended | JitCredentialDelivered | JitAccountEnding | JitAccountDropped;
