import type { ContextDescriptor } from '@custos/platform/runtime';

/** The privileged context as it registers with the platform when an app composes it (its streams are published to the bus, so the audit log sees them). */
export const PRIVILEGED_CONTEXT: ContextDescriptor = { name: 'privileged', publishesEvents: true };
