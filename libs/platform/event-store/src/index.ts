export * from './event';
export * from './sql';
export * from './event-store';
export * from './pg-database';
export * from './pglite-database';
export * from './sql-event-store';
export { compareCheckpoints } from './sql-subscription';
export * from './contract/event-store-contract';
export * from './kurrentdb';
