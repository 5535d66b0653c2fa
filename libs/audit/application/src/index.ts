export * from './canonical';
export * from './read-models/audit-log/audit-log';
export * from './transparency/merkle';
export * from './transparency/signed-note';
export * from './transparency/transparency-log';
export * from './transparency/export';
export * from './history/access-history';
export * from './history/point-in-time';
