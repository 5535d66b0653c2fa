export { KurrentEventStore, type KurrentClient, type KurrentEventStoreOptions, type LiveFeed } from './kurrent-event-store';
export { KurrentUnit, KurrentUnitDatabase } from './unit-of-work';
export { KurrentStreamNames, deterministicEventId, toCheckpoint, toPosition } from './mapping';
