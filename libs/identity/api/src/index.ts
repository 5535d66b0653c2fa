export { IDENTITY_ERROR_STATUSES } from './domain-error-statuses';
export * from './identity.module';
export * from './scim';
export { runHrImport, HR_IMPORT_USAGE, type CliIo } from './cli/hr-import.cli';
export * from './context';
