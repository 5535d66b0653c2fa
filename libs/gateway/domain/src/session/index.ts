import type { Decider } from '@custos/platform/domain';
import type { SessionEvent } from '@custos/gateway/contracts';
import type { SessionCommand } from './commands';
import { decide } from './decide';
import { evolve } from './evolve';
import { initialState, type SessionState } from './state';

/** The recording of one gateway session: started, statements in batches, ended or marked incomplete; or a refused attempt. */
export const sessionDecider: Decider<SessionCommand, SessionEvent, SessionState> = { initialState, decide, evolve };

export * from './commands';
export * from './state';
