export { GATEWAY_ERROR_STATUSES } from './domain-error-statuses';
export * from './gateway.module';
export * from './context';
export { readGatewayConfig, type GatewayConfig } from '@custos/gateway/application';
