export * from './runtime';
export * from './config';
export * from './compose';
export * from './inbox';
export * from './in-memory-view';
export * from './scheduler';
export * from './migrate';
export * from './aggregate';
