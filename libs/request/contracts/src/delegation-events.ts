import type { DomainEvent } from '@custos/platform/domain';

/** An approver's delegation: from `from` until `until`, `delegateId` may decide in the approver's place. */
export interface Delegation {
  delegationId: string;
  approverId: string;
  delegateId: string;
  from: string;
  until: string;
}

/** Stream `delegation-{approverId}`. */
export type DelegationGranted = DomainEvent<'DelegationGranted', Delegation & { grantedAt: string }>;

/** Ended before its `until` by the approver or the delegate. */
export type DelegationEnded = DomainEvent<
  'DelegationEnded',
  { delegationId: string; approverId: string; delegateId: string; endedBy: string; endedAt: string }
>;

export type DelegationEvent = DelegationGranted | DelegationEnded;
