import { decideAccess } from './decide';
import { evolveAccess } from './evolve';
import { initialAccessState } from './state';

export * from './commands';
export * from './state';
export * from './grant-id';
export { decideAccess } from './decide';
export { evolveAccess } from './evolve';

/** accessDecider: one identity's grants (stream `access-{identityId}`). */
export const accessDecider = { initialState: initialAccessState, decide: decideAccess, evolve: evolveAccess };
