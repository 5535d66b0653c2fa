import type { BreakGlassEvent } from './break-glass-events';
import type { DelegationEvent } from './delegation-events';
import type { RequestEvent } from './request-events';

/** Every event the request context publishes. */
export type RequestContextEvent = RequestEvent | BreakGlassEvent | DelegationEvent;
