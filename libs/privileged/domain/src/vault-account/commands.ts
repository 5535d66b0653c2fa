import type { RotationReason } from '@custos/privileged/contracts';

/** Vault a shared account on a registered target; its first rotation (onboarding) starts with it, so only Custos knows the password. */
export interface RegisterVaultAccount {
  type: 'RegisterVaultAccount';
  data: { key: string; target: string; targetKnown: boolean; username: string; entitlement: string; rotateEvery?: string; rotationId: string; now: string; actor: string };
}

/** Take the account's password for a while. The application asked the entitlement context for the caller's active grant (`grant`, absent when none). */
export interface CheckOutVaultAccount {
  type: 'CheckOutVaultAccount';
  data: {
    key: string;
    identityId: string;
    leaseId: string;
    /** The caller's active grant of the account's entitlement; `expiresAt` absent when it has no end, `requestId` when it was made on a request. */
    grant?: { grantId: string; expiresAt?: string; requestId?: string };
    /** ISO 8601; absent: DEFAULT_LEASE. */
    duration?: string;
    reason?: string;
    now: string;
  };
}

/** Give the password back: the lease ends and the password is rotated. */
export interface CheckInVaultAccount {
  type: 'CheckInVaultAccount';
  data: { key: string; identityId: string; rotationId: string; now: string };
}

/** Sent by the scheduler at a lease's end. */
export interface ExpireLease {
  type: 'ExpireLease';
  data: { key: string; leaseId: string; rotationId: string; now: string };
}

/** The entitlement context ended a grant: a lease held on its strength ends too. */
export interface EndGrantLease {
  type: 'EndGrantLease';
  data: { key: string; grantId: string; rotationId: string; now: string };
}

/** Change the password now (an admin), or because it is due (the scheduler). */
export interface RotatePassword {
  type: 'RotatePassword';
  data: { key: string; rotationId: string; reason: Extract<RotationReason, 'scheduled' | 'on-demand'>; now: string };
}

/** The target has the pending password. */
export interface CompleteRotation {
  type: 'CompleteRotation';
  data: { key: string; rotationId: string; now: string };
}

/** The target refused or could not be reached; the rotation is retried at `retryAt`. */
export interface FailRotation {
  type: 'FailRotation';
  data: { key: string; rotationId: string; error: string; retryAt: string; now: string };
}

export type VaultAccountCommand =
  | RegisterVaultAccount
  | CheckOutVaultAccount
  | CheckInVaultAccount
  | ExpireLease
  | EndGrantLease
  | RotatePassword
  | CompleteRotation
  | FailRotation;
