export * from './hash-chain';
export * from './audit-log';
