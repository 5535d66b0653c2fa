export * from './audit.module';
export * from './context';
