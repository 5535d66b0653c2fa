export * from './identity-snapshot';
export * from './events';
export * from './stream-id';
export * from './sample';
