import type { SodPolicyEvent } from '@custos/entitlement/contracts';
import type { Decider } from '@custos/platform/domain';
import type { SodPolicyCommand } from './commands';
import { decide } from './decide';
import { evolve } from './evolve';
import { initialState, type SodPolicyState } from './state';

export * from './commands';
export type { SodPolicyState, NoSodPolicy, ActiveSodPolicy } from './state';

/** sodPolicyDecider: the separation-of-duties policy aggregate (stream `sod-policy-{key}`). */
export const sodPolicyDecider: Decider<SodPolicyCommand, SodPolicyEvent, SodPolicyState> = { initialState, decide, evolve };
