import type { Delegation } from '@custos/request/contracts';

/** A delegation as the approver's stream keeps it; `endedAt` once ended early. */
export interface DelegationRecord extends Delegation {
  endedAt?: string;
}

/** An approver's delegations, past and present (their ids are never reused). */
export interface ApproverDelegations {
  kind: 'ApproverDelegations';
  delegations: DelegationRecord[];
}

export type DelegationState = ApproverDelegations;

/** initialState: an approver who never delegated. */
export function initialState(): DelegationState {
  return { kind: 'ApproverDelegations', delegations: [] };
}
