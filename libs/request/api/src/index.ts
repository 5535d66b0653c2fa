export { REQUEST_ERROR_STATUSES } from './domain-error-statuses';
export * from './request.module';
export * from './context';
export * from './request-settings';
