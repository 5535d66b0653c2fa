export * from './birthright-policy';
export * from './role-expansion';
export * from './sod';
export * from './preview';
export * from './duration';
export * from './access-check';
