import type { JitAccountRequested, PasswordRotationStarted, TargetRegistered, VaultAccountCheckedOut, VaultAccountRegistered } from '@custos/privileged/contracts';

/** The fixed `now` of every spec. */
export const NOW = '2026-03-02T09:00:00.000Z';
export const IN_30_MIN = '2026-03-02T09:30:00.000Z';
export const IN_1_HOUR = '2026-03-02T10:00:00.000Z';
export const ADMIN = 'admin-1';
export const ADA = 'id-ada';

export function targetRegistered(data: Partial<TargetRegistered['data']> = {}): TargetRegistered {
  return { type: 'TargetRegistered', data: { key: 'pg-prod', kind: 'postgresql', host: 'db.internal', port: 5432, database: 'app', adminUsername: 'custos_admin', registeredAt: NOW, registeredBy: ADMIN, ...data } };
}

export function vaultAccountRegistered(data: Partial<VaultAccountRegistered['data']> = {}): VaultAccountRegistered {
  return { type: 'VaultAccountRegistered', data: { key: 'pg-prod-dba', target: 'pg-prod', username: 'dba', entitlement: 'pg-prod:dba', registeredAt: NOW, registeredBy: ADMIN, ...data } };
}

export function rotationStarted(data: Partial<PasswordRotationStarted['data']> = {}): PasswordRotationStarted {
  return { type: 'PasswordRotationStarted', data: { key: 'pg-prod-dba', rotationId: 'rot-1', version: 1, reason: 'onboarding', startedAt: NOW, ...data } };
}

export function checkedOut(data: Partial<VaultAccountCheckedOut['data']> = {}): VaultAccountCheckedOut {
  return {
    type: 'VaultAccountCheckedOut',
    data: { key: 'pg-prod-dba', leaseId: 'lease-1', identityId: ADA, grantId: 'grant-1', secretVersion: 1, checkedOutAt: NOW, expiresAt: IN_1_HOUR, ...data },
  };
}

export function jitAccountRequested(data: Partial<JitAccountRequested['data']> = {}): JitAccountRequested {
  return {
    type: 'JitAccountRequested',
    data: { grantId: 'grant-1', identityId: ADA, entitlement: 'pg-prod:readonly', target: 'pg-prod', targetRole: 'readonly', username: 'custos_0123456789ab', expiresAt: IN_1_HOUR, requestedAt: NOW, ...data },
  };
}
