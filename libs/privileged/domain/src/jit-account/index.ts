import type { Decider } from '@custos/platform/domain';
import type { JitAccountEvent } from '@custos/privileged/contracts';
import type { JitAccountCommand } from './commands';
import { decide } from './decide';
import { evolve } from './evolve';
import { initialState, type JitAccountState } from './state';

export * from './commands';
export type { JitAccountState, NoJitAccount, RequestedJitAccount, ActiveJitAccount, EndingJitAccount, DroppedJitAccount, JitAccountFacts } from './state';

/**
 * jitAccountDecider: the just-in-time database account of one grant (stream `jit-account-{grantId}`).
 *
 *     NoJitAccount --Request--> Requested --Created--> Active (--Deliver, once-->)
 *     Requested | Active --End--> Ending --Dropped--> Dropped
 *
 * Every step is idempotent: the bus may deliver a grant's start or end twice, and the
 * scheduler's jobs that make and drop the role may run again after a crash.
 */
export const jitAccountDecider: Decider<JitAccountCommand, JitAccountEvent, JitAccountState> = { initialState, decide, evolve };
