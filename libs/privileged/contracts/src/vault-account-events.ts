import type { DomainEvent } from '@custos/platform/domain';

/** Why a password is being changed. */
export type RotationReason = 'onboarding' | 'check-in' | 'lease-expired' | 'grant-ended' | 'scheduled' | 'on-demand';

/** Why a lease ended. */
export type CheckInReason = 'checked-in' | 'lease-expired' | 'grant-ended';

/** A shared privileged account on a target, vaulted: Custos alone knows its password from now on. */
export type VaultAccountRegistered = DomainEvent<
  'VaultAccountRegistered',
  {
    key: string;
    target: string;
    username: string;
    /** The entitlement whose active holders may check it out. */
    entitlement: string;
    /** ISO 8601: rotated this long after its last rotation. */
    rotateEvery?: string;
    registeredAt: string;
    registeredBy: string;
  }
>;

/** The password (version `secretVersion`) was shown to `identityId` under a lease until `expiresAt`, on the strength of `grantId`. */
export type VaultAccountCheckedOut = DomainEvent<
  'VaultAccountCheckedOut',
  {
    key: string;
    leaseId: string;
    identityId: string;
    grantId: string;
    /** Why: the request the grant was made on (an access request or a break-glass use), when it was. */
    requestId?: string;
    /** Why, in the caller's words. */
    reason?: string;
    secretVersion: number;
    checkedOutAt: string;
    expiresAt: string;
  }
>;

/** The lease ended; a rotation starts with it, so the password shown never works again. */
export type VaultAccountCheckedIn = DomainEvent<'VaultAccountCheckedIn', { key: string; leaseId: string; identityId: string; reason: CheckInReason; checkedInAt: string }>;

/**
 * A new password (version `version`, already sealed in the vault) is pending: it is set on the
 * target next, then committed by PasswordRotated. Until then both the vault and the target may
 * hold either; re-applying the pending one reconciles them.
 */
export type PasswordRotationStarted = DomainEvent<'PasswordRotationStarted', { key: string; rotationId: string; version: number; reason: RotationReason; startedAt: string }>;

/** The target has the pending password: it is the account's password from now on. */
export type PasswordRotated = DomainEvent<'PasswordRotated', { key: string; rotationId: string; version: number; rotatedAt: string }>;

/** Setting the pending password on the target failed; it is retried at `retryAt`. `error` is the connector's reason, never a password. */
export type PasswordRotationFailed = DomainEvent<
  'PasswordRotationFailed',
  { key: string; rotationId: string; version: number; error: string; attempt: number; failedAt: string; retryAt: string }
>;

export type VaultAccountEvent = VaultAccountRegistered | VaultAccountCheckedOut | VaultAccountCheckedIn | PasswordRotationStarted | PasswordRotated | PasswordRotationFailed;
