export * from './routing';
export * from './approval';
export * from './duration';
export * from './role-facts';
