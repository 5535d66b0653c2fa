import type { ContextDescriptor } from '@custos/platform/runtime';

/** The entitlement context as it registers with the platform when an app composes it (its streams are published to the bus). */
export const ENTITLEMENT_CONTEXT: ContextDescriptor = { name: 'entitlement', publishesEvents: true };
