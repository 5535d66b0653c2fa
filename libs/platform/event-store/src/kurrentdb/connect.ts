import { KurrentDBClient } from '@kurrent/kurrentdb-client';
import type { KurrentClient } from './kurrent-event-store';

/** A KurrentDB client that its opener disposes (`dispose` closes its connections). */
export type DisposableKurrentClient = KurrentClient & { dispose(): Promise<void> };

/**
 * connectKurrentDB opens a client on a KurrentDB connection string (`kurrentdb://host:2113?tls=false`,
 * `kurrentdb+discover://...` for a cluster). The client connects on its first call.
 */
export function connectKurrentDB(connectionString: string): DisposableKurrentClient {
  return KurrentDBClient.connectionString(connectionString);
}
