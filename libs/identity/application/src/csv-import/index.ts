export * from './snapshot';
export * from './reconcile';
