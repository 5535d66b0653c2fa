import type { AppendResult, CustosEvent, ExpectedVersion } from '../event';
import type { UnitOfWork } from '../event-store';
import { runCallbacks, type QueryOptions, type SqlDatabase, type SqlExecutor } from '../sql';
import type { KurrentDraft } from './mapping';

/** What a unit of work will write to one stream when it commits. */
export interface PendingWrite {
  streamId: string;
  /** What KurrentDB is asked to expect of the stream (the first append's expectation, made exact by a later numeric one). */
  expected: ExpectedVersion;
  /** The stream's version when the unit first appended to it. */
  baseVersion: number;
  drafts: KurrentDraft[];
  /** The envelopes handed to the callers, completed in place (position, and version for 'any') once written. */
  events: CustosEvent[];
  results: AppendResult[];
}

/**
 * KurrentUnit is the unit of work of a KurrentDB-backed context: a SQL transaction of the
 * PostgreSQL (or PGlite) database beside KurrentDB, where the context keeps its read models, inbox
 * and checkpoints (`sqlOf(unit)` reaches it), plus the appends to KurrentDB staged in it. The
 * appends are written to KurrentDB when the unit's work is done, just before the SQL COMMIT (see
 * KurrentEventStore, "appends in a unit of work").
 */
export class KurrentUnit implements SqlExecutor, UnitOfWork {
  /** Staged writes, by stream, in the order the unit first appended to each stream. */
  readonly pending = new Map<string, PendingWrite>();
  /** Stream versions this unit knows: read through it, or after its own staged writes. */
  readonly versions = new Map<string, number>();
  /** Events read through this unit, by stream then id: an event id found here is not appended again. */
  readonly stored = new Map<string, Map<string, CustosEvent>>();
  readonly committed: Array<() => void> = [];
  private readonly ordinals = new Map<string, number>();

  constructor(
    readonly sql: SqlExecutor,
    /** The store that opened the unit: another store's unit is refused. */
    readonly owner: object,
  ) {}

  query<R = Record<string, unknown>>(text: string, params?: unknown[], options?: QueryOptions): Promise<{ rows: R[]; rowCount: number }> {
    return this.sql.query<R>(text, params, options);
  }

  afterCommit(callback: () => void): void {
    this.committed.push(callback);
  }

  /** The next ordinal of an event that `causationId` appends to `streamId` in this unit (0, 1, ...). */
  nextOrdinal(causationId: string, streamId: string): number {
    const key = `${causationId.length}:${causationId}|${streamId}`;
    const ordinal = this.ordinals.get(key) ?? 0;
    this.ordinals.set(key, ordinal + 1);
    return ordinal;
  }

  remember(streamId: string, events: CustosEvent[]): void {
    let byId = this.stored.get(streamId);
    if (!byId) this.stored.set(streamId, (byId = new Map()));
    for (const event of events) byId.set(event.id, event);
  }
}

/**
 * The SQL database of a KurrentDB-backed context, as the context's runtime sees it: every
 * transaction opened through it is a KurrentUnit, whose staged appends are written to KurrentDB
 * before the SQL transaction commits. Handing this database to the runtime (`ContextRuntime.db`)
 * makes the transactions that command services, inboxes and subscribers open on their own units
 * of work of the store.
 */
export class KurrentUnitDatabase implements SqlDatabase {
  constructor(
    readonly inner: SqlDatabase,
    private readonly owner: object,
    private readonly beforeCommit: (unit: KurrentUnit) => Promise<void>,
  ) {}

  get dialect(): SqlDatabase['dialect'] {
    return this.inner.dialect;
  }

  query<R = Record<string, unknown>>(text: string, params?: unknown[], options?: QueryOptions): Promise<{ rows: R[]; rowCount: number }> {
    return this.inner.query<R>(text, params, options);
  }

  async transaction<T>(work: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    let unit: KurrentUnit | undefined;
    const result = await this.inner.transaction(async (tx) => {
      unit = new KurrentUnit(tx, this.owner);
      const value = await work(unit);
      await this.beforeCommit(unit);
      return value;
    });
    if (unit) runCallbacks(unit.committed);
    return result;
  }

  /** The database belongs to whoever opened it (the topology): closing the store's view of it closes it. */
  close(): Promise<void> {
    return this.inner.close();
  }
}
