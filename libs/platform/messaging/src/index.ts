export * from './bus';
export * from './naming';
export * from './nats-bus';
export * from './in-process-bus';
export * from './contract/message-bus-contract';
export * from './read-pacer';
