export * from './session';
export * from './errors';
