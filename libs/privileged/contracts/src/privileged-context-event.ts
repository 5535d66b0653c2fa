import type { JitAccountEvent } from './jit-account-events';
import type { TargetEvent } from './target-events';
import type { VaultAccountEvent } from './vault-account-events';

/** Every event the privileged context publishes. */
export type PrivilegedContextEvent = TargetEvent | VaultAccountEvent | JitAccountEvent;

/**
 * The identity a privileged-context event concerns, as its payload names it: who checked an
 * account out or in, whose just-in-time account it is.
 */
export function identityConcernedByPrivilegedEvent(event: { name?: string; data: unknown }): string | undefined {
  const e = { type: event.name, data: event.data } as PrivilegedContextEvent;
  switch (e.type) {
    case 'VaultAccountCheckedOut':
    case 'VaultAccountCheckedIn':
    case 'JitAccountRequested':
    case 'JitCredentialDelivered':
      return e.data.identityId;
    default:
      return undefined;
  }
}
