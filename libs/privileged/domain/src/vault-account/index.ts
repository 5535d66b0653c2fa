import type { Decider } from '@custos/platform/domain';
import type { VaultAccountEvent } from '@custos/privileged/contracts';
import type { VaultAccountCommand } from './commands';
import { decide } from './decide';
import { evolve } from './evolve';
import { initialState, type VaultAccountState } from './state';

export * from './commands';
export { DEFAULT_LEASE, MAX_LEASE } from './decide';
export type { VaultAccountState, NoVaultAccount, VaultedAccount, Lease, PendingRotation, VaultAccountDefinition } from './state';

/**
 * vaultAccountDecider: one shared privileged account (stream `vault-account-{key}`).
 *
 *     NoVaultAccount --Register--> VaultedAccount (onboarding rotation pending)
 *     lease:    CheckOut --> held --CheckIn | ExpireLease | EndGrantLease--> free, rotation started
 *     rotation: Started (password sealed as pending) --Fail*--> ... --Complete--> committed
 *
 * The password's versions live in the vault; events name versions only. A rotation is pending
 * from PasswordRotationStarted until PasswordRotated: re-applying the pending password on the
 * target and completing it is always safe, which is how a crash between the steps is reconciled.
 */
export const vaultAccountDecider: Decider<VaultAccountCommand, VaultAccountEvent, VaultAccountState> = { initialState, decide, evolve };
