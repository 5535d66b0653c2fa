import type { VaultAccountEvent } from '@custos/privileged/contracts';
import { deciderSpec } from '@custos/platform/domain/testing';
import { AlreadyCheckedOut, NoActiveGrant, NotCheckedOut, RotationPending, UnknownTarget, ValidationFailed, VaultAccountNotFound } from '../errors';
import { ADA, ADMIN, IN_1_HOUR, IN_30_MIN, NOW, checkedOut, rotationStarted, vaultAccountRegistered } from '../testing/builders';
import type { CheckOutVaultAccount, RegisterVaultAccount, VaultAccountCommand } from './commands';
import { vaultAccountDecider } from './index';
import type { VaultAccountState } from './state';

const spec = deciderSpec<VaultAccountCommand, VaultAccountEvent, VaultAccountState>(vaultAccountDecider);
const KEY = 'pg-prod-dba';
const register = (data: Partial<RegisterVaultAccount['data']> = {}): RegisterVaultAccount => ({
  type: 'RegisterVaultAccount',
  data: { key: KEY, target: 'pg-prod', targetKnown: true, username: 'dba', entitlement: 'pg-prod:dba', rotationId: 'rot-1', now: NOW, actor: ADMIN, ...data },
});
const checkOut = (data: Partial<CheckOutVaultAccount['data']> = {}): CheckOutVaultAccount => ({
  type: 'CheckOutVaultAccount',
  data: { key: KEY, identityId: ADA, leaseId: 'lease-1', grant: { grantId: 'grant-1' }, now: NOW, ...data },
});
const rotated = (version = 1, rotationId = 'rot-1', at = NOW): VaultAccountEvent => ({ type: 'PasswordRotated', data: { key: KEY, rotationId, version, rotatedAt: at } });
const checkedIn = (reason: 'checked-in' | 'lease-expired' | 'grant-ended', at = IN_30_MIN): VaultAccountEvent => ({
  type: 'VaultAccountCheckedIn',
  data: { key: KEY, leaseId: 'lease-1', identityId: ADA, reason, checkedInAt: at },
});
/** Registered and onboarded: version 1 on the target, nobody holding it. */
const ready = [vaultAccountRegistered(), rotationStarted(), rotated()];

describe('vault account', () => {
  describe('given no account', () => {
    it('registers it and starts its onboarding rotation at once', () => {
      spec.given([]).when(register({ rotateEvery: 'P30D' })).then([vaultAccountRegistered({ rotateEvery: 'P30D' }), rotationStarted()]);
    });

    it('refuses an unregistered target and a rotateEvery that is no duration', () => {
      spec.given([]).when(register({ targetKnown: false })).thenThrows(UnknownTarget);
      spec
        .given([])
        .when(register({ rotateEvery: 'monthly' }))
        .thenThrows(ValidationFailed, (error) => expect(error.errors.map((e) => e.field)).toEqual(['rotateEvery']));
    });

    it('has nothing to check out', () => {
      spec.given([]).when(checkOut()).thenThrows(VaultAccountNotFound);
    });
  });

  describe('given an account being onboarded', () => {
    it('is not handed out before its first password is on the target', () => {
      spec.given([vaultAccountRegistered(), rotationStarted()]).when(checkOut()).thenThrows(RotationPending);
    });

    it('records a failed attempt with its reason and retry time; the rotation stays pending', () => {
      spec
        .given([vaultAccountRegistered(), rotationStarted()])
        .when({ type: 'FailRotation', data: { key: KEY, rotationId: 'rot-1', error: 'connection refused', retryAt: IN_30_MIN, now: NOW } })
        .then([{ type: 'PasswordRotationFailed', data: { key: KEY, rotationId: 'rot-1', version: 1, error: 'connection refused', attempt: 1, failedAt: NOW, retryAt: IN_30_MIN } }]);
    });

    it('commits the pending password once; a repeat or another rotation\'s completion does nothing', () => {
      spec.given([vaultAccountRegistered(), rotationStarted()]).when({ type: 'CompleteRotation', data: { key: KEY, rotationId: 'rot-1', now: NOW } }).then([rotated()]);
      spec.given(ready).when({ type: 'CompleteRotation', data: { key: KEY, rotationId: 'rot-1', now: NOW } }).then([]);
      spec.given([vaultAccountRegistered(), rotationStarted()]).when({ type: 'CompleteRotation', data: { key: KEY, rotationId: 'rot-0', now: NOW } }).then([]);
    });

    it('refuses an on-demand rotation while one is pending, and lets a scheduled one pass silently', () => {
      spec.given([vaultAccountRegistered(), rotationStarted()]).when({ type: 'RotatePassword', data: { key: KEY, rotationId: 'rot-2', reason: 'on-demand', now: NOW } }).thenThrows(RotationPending);
      spec.given([vaultAccountRegistered(), rotationStarted()]).when({ type: 'RotatePassword', data: { key: KEY, rotationId: 'rot-2', reason: 'scheduled', now: NOW } }).then([]);
    });
  });

  describe('given an onboarded account nobody holds', () => {
    it('checks it out to a holder of an active grant for the default hour, showing the current version', () => {
      spec.given(ready).when(checkOut()).then([checkedOut()]);
    });

    it('never lets the lease outlast the grant', () => {
      spec.given(ready).when(checkOut({ grant: { grantId: 'grant-1', expiresAt: IN_30_MIN } })).then([checkedOut({ expiresAt: IN_30_MIN })]);
    });

    it('refuses someone without an active grant (403)', () => {
      spec.given(ready).when(checkOut({ grant: undefined })).thenThrows(NoActiveGrant, (error) => expect(error).toMatchObject({ identityId: ADA, entitlement: 'pg-prod:dba' }));
    });

    it('refuses a lease longer than PT8H', () => {
      spec.given(ready).when(checkOut({ duration: 'PT9H' })).thenThrows(ValidationFailed, (error) => expect(error.errors.map((e) => e.field)).toEqual(['duration']));
    });

    it('rotates on demand to the next version', () => {
      spec
        .given(ready)
        .when({ type: 'RotatePassword', data: { key: KEY, rotationId: 'rot-2', reason: 'on-demand', now: NOW } })
        .then([rotationStarted({ rotationId: 'rot-2', version: 2, reason: 'on-demand' })]);
    });
  });

  describe('given a checked-out account', () => {
    const held = [...ready, checkedOut()];

    it('refuses a second exclusive check-out (409)', () => {
      spec.given(held).when(checkOut({ identityId: 'id-bob', leaseId: 'lease-2' })).thenThrows(AlreadyCheckedOut, (error) => expect(error.expiresAt).toBe(IN_1_HOUR));
    });

    it('checks in by its holder and rotates the password they saw', () => {
      spec
        .given(held)
        .when({ type: 'CheckInVaultAccount', data: { key: KEY, identityId: ADA, rotationId: 'rot-2', now: IN_30_MIN } })
        .then([checkedIn('checked-in'), rotationStarted({ rotationId: 'rot-2', version: 2, reason: 'check-in', startedAt: IN_30_MIN })]);
    });

    it('refuses a check-in by someone else', () => {
      spec.given(held).when({ type: 'CheckInVaultAccount', data: { key: KEY, identityId: 'id-bob', rotationId: 'rot-2', now: IN_30_MIN } }).thenThrows(NotCheckedOut);
    });

    it('ends the lease at its end and rotates; an early or stale expiry job does nothing', () => {
      spec
        .given(held)
        .when({ type: 'ExpireLease', data: { key: KEY, leaseId: 'lease-1', rotationId: 'rot-2', now: IN_1_HOUR } })
        .then([checkedIn('lease-expired', IN_1_HOUR), rotationStarted({ rotationId: 'rot-2', version: 2, reason: 'lease-expired', startedAt: IN_1_HOUR })]);
      spec.given(held).when({ type: 'ExpireLease', data: { key: KEY, leaseId: 'lease-1', rotationId: 'rot-2', now: IN_30_MIN } }).then([]);
      spec.given(held).when({ type: 'ExpireLease', data: { key: KEY, leaseId: 'lease-0', rotationId: 'rot-2', now: IN_1_HOUR } }).then([]);
    });

    it('ends the lease when its grant ends, and rotates; another grant\'s end does nothing', () => {
      spec
        .given(held)
        .when({ type: 'EndGrantLease', data: { key: KEY, grantId: 'grant-1', rotationId: 'rot-2', now: IN_30_MIN } })
        .then([checkedIn('grant-ended'), rotationStarted({ rotationId: 'rot-2', version: 2, reason: 'grant-ended', startedAt: IN_30_MIN })]);
      spec.given(held).when({ type: 'EndGrantLease', data: { key: KEY, grantId: 'grant-9', rotationId: 'rot-2', now: IN_30_MIN } }).then([]);
    });

    it('leaves a scheduled rotation to the check-in', () => {
      spec.given(held).when({ type: 'RotatePassword', data: { key: KEY, rotationId: 'rot-2', reason: 'scheduled', now: NOW } }).then([]);
    });

    it('is not handed out again after the lease ran out until its expiry rotated the password', () => {
      spec.given(held).when(checkOut({ identityId: 'id-bob', leaseId: 'lease-2', now: IN_1_HOUR })).thenThrows(RotationPending);
    });
  });
});
