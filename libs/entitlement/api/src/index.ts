export { ENTITLEMENT_ERROR_STATUSES } from './domain-error-statuses';
export * from './entitlement.module';
export * from './context';
