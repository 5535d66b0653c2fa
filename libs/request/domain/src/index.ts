export * from './errors';
export * from './refusal';
export * from './request';
export * from './break-glass';
export * from './delegation';
export * from './policies';
