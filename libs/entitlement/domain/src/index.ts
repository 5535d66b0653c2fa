export { SECURITY_ENTITLEMENT } from '@custos/entitlement/contracts';
export * from './errors';
export type { KnownKeys } from './shared/references';
export * from './entitlement';
export * from './role';
export * from './birthright-rule';
export * from './sod-policy';
export * from './access';
export * from './policies';
