export * from './routing';
export * from './approval';
export * from './duration';
