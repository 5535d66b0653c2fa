export { deciderSpec } from '@custos/platform/testing';
