export * from './audit.module';
export * from './audit-settings';
export * from './audit-verify.cli';
export * from './context';
export * from './projections-rebuild.cli';
