import type { ContextDescriptor } from '@custos/platform/runtime';

/** The audit context as it registers with the platform when an app composes it (it owns no streams of its own: it reads the others' events). */
export const AUDIT_CONTEXT: ContextDescriptor = { name: 'audit', publishesEvents: false };
