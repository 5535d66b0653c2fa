export * from './stream-ids';
export * from './approval';
export * from './request-events';
export * from './break-glass-events';
export * from './delegation-events';
export * from './request-context-event';
