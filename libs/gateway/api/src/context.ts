import type { ContextDescriptor } from '@custos/platform/runtime';

/**
 * The PostgreSQL gateway as it registers with the platform: its own schema and `session-{id}`
 * streams, published to the bus so that other contexts (the audit log) can read the recordings.
 */
export const GATEWAY_CONTEXT: ContextDescriptor = { name: 'gateway', publishesEvents: true };
