export * from './stream-ids';
export * from './target-events';
export * from './vault-account-events';
export * from './jit-account-events';
export * from './privileged-context-event';
