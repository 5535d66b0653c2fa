import type { ContextDescriptor } from '@custos/platform/runtime';

/** The request context as it registers with the platform when an app composes it (its streams are published to the bus). */
export const REQUEST_CONTEXT: ContextDescriptor = { name: 'request', publishesEvents: true };
