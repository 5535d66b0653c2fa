import type { RotationReason, VaultAccountRegistered } from '@custos/privileged/contracts';

export type VaultAccountDefinition = Omit<VaultAccountRegistered['data'], 'registeredAt' | 'registeredBy'>;

export interface Lease {
  leaseId: string;
  identityId: string;
  grantId: string;
  checkedOutAt: string;
  expiresAt: string;
}

export interface PendingRotation {
  rotationId: string;
  version: number;
  reason: RotationReason;
  startedAt: string;
  attempts: number;
}

export interface NoVaultAccount {
  kind: 'NoVaultAccount';
}

/** A vaulted account: `version` is the password the target has (0 before onboarding completes). */
export interface VaultedAccount {
  kind: 'VaultedAccount';
  definition: VaultAccountDefinition;
  version: number;
  lease?: Lease;
  pending?: PendingRotation;
  lastRotatedAt?: string;
  lastFailure?: { error: string; failedAt: string; retryAt: string };
}

export type VaultAccountState = NoVaultAccount | VaultedAccount;

/** initialState: no account under the key. */
export function initialState(): VaultAccountState {
  return { kind: 'NoVaultAccount' };
}
