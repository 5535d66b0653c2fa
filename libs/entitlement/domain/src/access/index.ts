import type { AccessEvent } from '@custos/entitlement/contracts';
import type { Decider } from '@custos/platform/domain';
import type { AccessCommand } from './commands';
import { decide } from './decide';
import { evolve } from './evolve';
import { initialState, type AccessState } from './state';

export * from './commands';
export type { AccessState, ActiveAccess, TerminatedAccess, SodExceptionRecord } from './state';
export * from './grant-id';

/** accessDecider: one identity's grants (stream `access-{identityId}`). */
export const accessDecider: Decider<AccessCommand, AccessEvent, AccessState> = { initialState, decide, evolve };
