export { PRIVILEGED_ERROR_STATUSES } from './domain-error-statuses';
export * from './privileged.module';
export * from './context';
