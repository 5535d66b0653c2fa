export * from './domain-event';
export * from './decider';
export * from './domain-error';
export * from './iso-duration';
