import type { ContextDescriptor } from '@custos/platform/runtime';

/** The identity context as it registers with the platform when an app composes it (its streams are published to the bus). */
export const IDENTITY_CONTEXT: ContextDescriptor = { name: 'identity', publishesEvents: true };
