export * from './hr-change';
export * from './identity-store';
export * from './employee-directory';
export * from './hr-intake';
export * from './identities-view';
export * from './identity-workers';
