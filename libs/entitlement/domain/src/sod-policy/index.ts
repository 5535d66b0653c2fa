import { decideSodPolicy } from './decide';
import { evolveSodPolicy } from './evolve';
import { initialSodPolicyState } from './state';

export * from './commands';
export * from './state';
export { decideSodPolicy } from './decide';
export { evolveSodPolicy } from './evolve';

/** sodPolicyDecider: the separation-of-duties policy aggregate (stream `sod-policy-{key}`). */
export const sodPolicyDecider = { initialState: initialSodPolicyState, decide: decideSodPolicy, evolve: evolveSodPolicy };
