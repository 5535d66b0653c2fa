export * from './hash-chain';
export * from './read-models/audit-log/audit-log';
