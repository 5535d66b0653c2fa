export * from './key-encryption-key';
export * from './file-kek';
export * from './envelope';
export * from './vault';
