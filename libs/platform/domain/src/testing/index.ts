export * from './given-when-then';
export * from './domain-error-statuses';
