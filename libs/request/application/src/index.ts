export * from './errors';
export * from './request-answer';
export * from './request-service';
export * from './request-fulfilment';
export * from './request-workers';
export * from './read-models/directory/directory';
export * from './read-models/requests-view/requests-view';
