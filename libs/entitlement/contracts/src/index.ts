export * from './stream-ids';
export * from './entitlement-events';
export * from './role-events';
export * from './birthright-rule-events';
export * from './sod-policy-events';
export * from './access-events';
export * from './entitlement-context-event';
export * from './rpc';
