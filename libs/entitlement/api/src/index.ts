export * from './entitlement.module';
