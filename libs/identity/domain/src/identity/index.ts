import type { IdentityEvent } from '@custos/identity/contracts';
import type { Decider } from '@custos/platform/domain';
import type { IdentityCommand } from './commands';
import { decide } from './decide';
import { evolve } from './evolve';
import { initialState, type IdentityState } from './state';

export * from './commands';
export type { ActiveIdentity, ExistingIdentity, IdentityState, IdentityTimeline, NoIdentity, PendingIdentity, TerminatedIdentity } from './state';

/** identityDecider: one identity's lifecycle (stream `identity-{identityId}`). */
export const identityDecider: Decider<IdentityCommand, IdentityEvent, IdentityState> = { initialState, decide, evolve };
