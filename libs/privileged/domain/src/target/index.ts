import type { Decider } from '@custos/platform/domain';
import type { TargetEvent } from '@custos/privileged/contracts';
import type { TargetCommand } from './commands';
import { decide } from './decide';
import { evolve } from './evolve';
import { initialState, type TargetState } from './state';

export * from './commands';
export type { TargetState, NoTarget, RegisteredTarget } from './state';

/** targetDecider: one managed system (stream `target-{key}`), registered once after its connector reached it. */
export const targetDecider: Decider<TargetCommand, TargetEvent, TargetState> = { initialState, decide, evolve };
