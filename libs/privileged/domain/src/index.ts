export * from './errors';
export * from './target';
export * from './vault-account';
export * from './jit-account';
