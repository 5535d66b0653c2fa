export * from './connector';
export * from './postgresql-connector';
export * from './scram';
