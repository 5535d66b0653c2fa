import { decide } from './decide';
import { evolve } from './evolve';
import { initialState } from './state';

export * from './commands';
export * from './errors';
export * from './state';
export { decide } from './decide';
export { evolve } from './evolve';
export { timelinePosition } from './timeline';

/** The identity aggregate as a decider: fold the stream with `evolve` from `initialState`, then `decide`. */
export const identityDecider = { initialState, decide, evolve };
