export * from './vault';
export * from './connectors';
