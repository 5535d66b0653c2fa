import type { CheckInReason, RotationReason, VaultAccountEvent } from '@custos/privileged/contracts';
import {
  AlreadyCheckedOut,
  NoActiveGrant,
  NotCheckedOut,
  RotationPending,
  UnknownTarget,
  ValidationFailed,
  VaultAccountAlreadyRegistered,
  VaultAccountNotFound,
  type FieldError,
} from '../errors';
import { addDuration, blank, earliest, instantOf } from '../shared/time';
import type {
  CheckInVaultAccount,
  CheckOutVaultAccount,
  CompleteRotation,
  EndGrantLease,
  ExpireLease,
  FailRotation,
  RegisterVaultAccount,
  RotatePassword,
  VaultAccountCommand,
} from './commands';
import type { VaultAccountState, VaultedAccount } from './state';

/** A lease lasts this long unless asked shorter or longer (at most MAX_LEASE), and never past the grant. */
export const DEFAULT_LEASE = 'PT1H';
export const MAX_LEASE = 'PT8H';

/** decide: one holder at a time, never past their grant, and every password shown is rotated away when the lease ends. */
export function decide(command: VaultAccountCommand, state: VaultAccountState): VaultAccountEvent[] {
  switch (command.type) {
    case 'RegisterVaultAccount':
      return register(command, state);
    case 'CheckOutVaultAccount':
      return checkOut(command, state);
    case 'CheckInVaultAccount':
      return checkIn(command, state);
    case 'ExpireLease':
      return expireLease(command, state);
    case 'EndGrantLease':
      return endGrantLease(command, state);
    case 'RotatePassword':
      return rotate(command, state);
    case 'CompleteRotation':
      return complete(command, state);
    case 'FailRotation':
      return fail(command, state);
    default: {
      const unexpected: never = command;
      throw new Error(`unknown command ${(unexpected as { type: string }).type}`);
    }
  }
}

/** register: an account on a registered target, linked to an entitlement; its onboarding rotation starts at once, so the password anyone knew before stops working. */
function register({ data }: RegisterVaultAccount, state: VaultAccountState): VaultAccountEvent[] {
  if (state.kind !== 'NoVaultAccount') throw new VaultAccountAlreadyRegistered(data.key);
  const errors: FieldError[] = [];
  for (const field of ['key', 'target', 'username', 'entitlement'] as const) if (blank(data[field])) errors.push({ field, message: 'is required' });
  if (data.rotateEvery !== undefined) {
    try {
      addDuration(data.now, data.rotateEvery, 'rotateEvery');
    } catch (error) {
      if (error instanceof ValidationFailed) errors.push(...error.errors);
      else throw error;
    }
  }
  if (errors.length > 0) throw new ValidationFailed(errors);
  if (!data.targetKnown) throw new UnknownTarget(data.target);
  return [
    {
      type: 'VaultAccountRegistered',
      data: {
        key: data.key,
        target: data.target,
        username: data.username,
        entitlement: data.entitlement,
        ...(data.rotateEvery !== undefined && { rotateEvery: data.rotateEvery }),
        registeredAt: data.now,
        registeredBy: data.actor,
      },
    },
    started(data.key, data.rotationId, 1, 'onboarding', data.now),
  ];
}

/**
 * checkOut: only with an active grant of the account's entitlement, only when nobody holds it
 * and no rotation is pending (the password would be about to change), for the lease asked
 * (PT1H by default, at most PT8H) but never past the grant's end.
 */
function checkOut({ data }: CheckOutVaultAccount, state: VaultAccountState): VaultAccountEvent[] {
  const account = vaulted(state, data.key);
  const asked = data.duration ?? DEFAULT_LEASE;
  const end = addDuration(data.now, asked, 'duration');
  if (instantOf(end, 'duration') > instantOf(addDuration(data.now, MAX_LEASE, 'duration'), 'duration')) {
    throw new ValidationFailed([{ field: 'duration', message: `must be at most ${MAX_LEASE}` }]);
  }
  if (!data.grant) throw new NoActiveGrant(data.key, data.identityId, account.definition.entitlement);
  if (account.lease) {
    // A lease past its end whose expiry has not rotated yet: the password it showed still works, so it is not shown again.
    if (instantOf(account.lease.expiresAt, 'expiresAt') <= instantOf(data.now, 'now')) throw new RotationPending(data.key);
    throw new AlreadyCheckedOut(data.key, account.lease.expiresAt);
  }
  if (account.pending || account.version === 0) throw new RotationPending(data.key);
  return [
    {
      type: 'VaultAccountCheckedOut',
      data: {
        key: data.key,
        leaseId: data.leaseId,
        identityId: data.identityId,
        grantId: data.grant.grantId,
        ...(data.grant.requestId !== undefined && { requestId: data.grant.requestId }),
        ...(data.reason !== undefined && { reason: data.reason }),
        secretVersion: account.version,
        checkedOutAt: data.now,
        expiresAt: earliest(end, data.grant.expiresAt),
      },
    },
  ];
}

/** checkIn: the holder gives it back; the password they saw is rotated. */
function checkIn({ data }: CheckInVaultAccount, state: VaultAccountState): VaultAccountEvent[] {
  const account = vaulted(state, data.key);
  if (!account.lease || account.lease.identityId !== data.identityId) throw new NotCheckedOut(data.key, data.identityId);
  return endLease(account, 'checked-in', 'check-in', data.rotationId, data.now);
}

/** expireLease: a lease still held at its end ends there; an older lease's job does nothing. */
function expireLease({ data }: ExpireLease, state: VaultAccountState): VaultAccountEvent[] {
  const account = vaulted(state, data.key);
  if (account.lease?.leaseId !== data.leaseId || instantOf(data.now, 'now') < instantOf(account.lease.expiresAt, 'expiresAt')) return [];
  return endLease(account, 'lease-expired', 'lease-expired', data.rotationId, data.now);
}

/** endGrantLease: the grant behind a lease ended (revoked, expired, the holder left): the lease ends now. */
function endGrantLease({ data }: EndGrantLease, state: VaultAccountState): VaultAccountEvent[] {
  const account = vaulted(state, data.key);
  if (account.lease?.grantId !== data.grantId) return [];
  return endLease(account, 'grant-ended', 'grant-ended', data.rotationId, data.now);
}

/** rotate: a new password unless one is pending already; a scheduled rotation waits while the account is checked out (its check-in rotates it). */
function rotate({ data }: RotatePassword, state: VaultAccountState): VaultAccountEvent[] {
  const account = vaulted(state, data.key);
  if (account.pending) {
    if (data.reason === 'on-demand') throw new RotationPending(data.key);
    return [];
  }
  if (data.reason === 'scheduled' && account.lease) return [];
  return [started(data.key, data.rotationId, account.version + 1, data.reason, data.now)];
}

/** complete: the pending password is committed once; a repeat or another rotation's completion does nothing. */
function complete({ data }: CompleteRotation, state: VaultAccountState): VaultAccountEvent[] {
  const account = vaulted(state, data.key);
  if (account.pending?.rotationId !== data.rotationId) return [];
  return [{ type: 'PasswordRotated', data: { key: data.key, rotationId: data.rotationId, version: account.pending.version, rotatedAt: data.now } }];
}

/** fail: a failed attempt of the pending rotation is recorded (with its reason and retry time); the rotation stays pending. */
function fail({ data }: FailRotation, state: VaultAccountState): VaultAccountEvent[] {
  const account = vaulted(state, data.key);
  if (account.pending?.rotationId !== data.rotationId) return [];
  return [
    {
      type: 'PasswordRotationFailed',
      data: {
        key: data.key,
        rotationId: data.rotationId,
        version: account.pending.version,
        error: data.error,
        attempt: account.pending.attempts + 1,
        failedAt: data.now,
        retryAt: data.retryAt,
      },
    },
  ];
}

function endLease(account: VaultedAccount, reason: CheckInReason, rotation: RotationReason, rotationId: string, now: string): VaultAccountEvent[] {
  const lease = account.lease!;
  const events: VaultAccountEvent[] = [{ type: 'VaultAccountCheckedIn', data: { key: account.definition.key, leaseId: lease.leaseId, identityId: lease.identityId, reason, checkedInAt: now } }];
  // A pending rotation already replaces the password the holder saw.
  if (!account.pending) events.push(started(account.definition.key, rotationId, account.version + 1, rotation, now));
  return events;
}

function started(key: string, rotationId: string, version: number, reason: RotationReason, now: string): VaultAccountEvent {
  return { type: 'PasswordRotationStarted', data: { key, rotationId, version, reason, startedAt: now } };
}

function vaulted(state: VaultAccountState, key: string): VaultedAccount {
  if (state.kind === 'NoVaultAccount') throw new VaultAccountNotFound(key);
  return state;
}
