export * from './target-postgres';
