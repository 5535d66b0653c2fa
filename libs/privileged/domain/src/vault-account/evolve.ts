import type { VaultAccountEvent } from '@custos/privileged/contracts';
import type { VaultAccountState } from './state';

/** evolve: a lease is held until checked in; a rotation is pending from its start until committed, counting failed attempts. */
export function evolve(state: VaultAccountState, event: VaultAccountEvent): VaultAccountState {
  if (event.type === 'VaultAccountRegistered') {
    const { registeredAt: _at, registeredBy: _by, ...definition } = event.data;
    return { kind: 'VaultedAccount', definition, version: 0 };
  }
  if (state.kind === 'NoVaultAccount') return state;
  switch (event.type) {
    case 'VaultAccountCheckedOut': {
      const { leaseId, identityId, grantId, checkedOutAt, expiresAt } = event.data;
      return { ...state, lease: { leaseId, identityId, grantId, checkedOutAt, expiresAt } };
    }
    case 'VaultAccountCheckedIn': {
      const { lease: _lease, ...rest } = state;
      return rest;
    }
    case 'PasswordRotationStarted': {
      const { rotationId, version, reason, startedAt } = event.data;
      return { ...state, pending: { rotationId, version, reason, startedAt, attempts: 0 } };
    }
    case 'PasswordRotated': {
      const { pending: _pending, ...rest } = state;
      return { ...rest, version: event.data.version, lastRotatedAt: event.data.rotatedAt };
    }
    case 'PasswordRotationFailed':
      return {
        ...state,
        ...(state.pending && { pending: { ...state.pending, attempts: event.data.attempt } }),
        lastFailure: { error: event.data.error, failedAt: event.data.failedAt, retryAt: event.data.retryAt },
      };
    default: {
      const unexpected: never = event;
      return unexpected;
    }
  }
}
