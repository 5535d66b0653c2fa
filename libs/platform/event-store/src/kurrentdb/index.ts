export { KurrentEventStore, type KurrentClient, type KurrentEventStoreOptions, type LiveFeed } from './kurrent-event-store';
export { KurrentUnit, KurrentUnitDatabase } from './unit-of-work';
export { KurrentStreamNames, deterministicEventId, toCheckpoint, toPosition } from './mapping';
export { connectKurrentDB, type DisposableKurrentClient } from './connect';
/** A stand-in for a KurrentDB server in tests where none runs (as the contract suite is exported for adapters' tests). */
export { InMemoryKurrentClient } from './in-memory-kurrent-client';
