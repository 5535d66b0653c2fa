export * from './postgres';
export * from './nats';
export * from './oidc-issuer';
export * from './eventually';
export * from './postgres-fixture';
export * from './random';
