export * from './errors';
export * from './identity';
/** Re-exported for the application layer's existing imports; declared in @custos/platform/domain. */
