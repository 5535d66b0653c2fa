export * from './hash-chain';
export * from './audit-log';
export * from './audit-recorder';
