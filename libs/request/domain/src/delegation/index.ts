import type { DelegationEvent } from '@custos/request/contracts';
import type { Decider } from '@custos/platform/domain';
import type { DelegationCommand } from './commands';
import { decide } from './decide';
import { evolve } from './evolve';
import { initialState, type DelegationState } from './state';

export * from './commands';
export type { DelegationState, ApproverDelegations, DelegationRecord } from './state';

/**
 * delegationDecider: one approver's delegations (stream `delegation-{approverId}`). The request
 * decider does not read these streams: the application passes the delegations naming the deciding
 * identity as delegate (from a read model of DelegationGranted / DelegationEnded) on DecideRequest,
 * and the request decider counts those in force at the decision (`delegationInForce`).
 */
export const delegationDecider: Decider<DelegationCommand, DelegationEvent, DelegationState> = { initialState, decide, evolve };
