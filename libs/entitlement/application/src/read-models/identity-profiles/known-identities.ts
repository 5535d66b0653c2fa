import type { SqlDatabase } from '@custos/platform/event-store';

/**
 * KnownIdentities: the ids of every identity the entitlement context has heard of from the
 * identity context (a row of identity profiles), in memory, so that the check API tells an
 * unknown identity from one without access without I/O. Loaded at start, then kept current by
 * reading the rows inserted since the last read (another replica's joiners included), in
 * transaction id order as the event store's readers do: below the snapshot's xmin every
 * transaction has ended, so a read from the previous xmin on never steps over a row.
 */
export class KnownIdentities {
  private readonly ids = new Set<string>();
  /** Rows whose `known_tx` is at or above this may not have been read yet. */
  private watermark = '0';
  private timer?: NodeJS.Timeout;
  private polling?: Promise<void>;

  constructor(
    private readonly db: SqlDatabase,
    private readonly schema: string,
    private readonly onError: (error: unknown) => void,
    private readonly pollIntervalMs = 250,
  ) {}

  async start(): Promise<void> {
    await this.refresh();
    this.timer = setInterval(() => {
      this.polling ??= this.refresh()
        .catch(this.onError)
        .finally(() => (this.polling = undefined));
    }, this.pollIntervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.polling;
  }

  /** True once the identity's profile was read or added here. */
  has(identityId: string): boolean {
    return this.ids.has(identityId);
  }

  /** Adds identities this process has just recorded (read-your-writes before the next refresh). */
  add(identityIds: Iterable<string>): void {
    for (const id of identityIds) this.ids.add(id);
  }

  /** Reads the identities recorded since the last refresh. */
  async refresh(): Promise<void> {
    const { rows } = await this.db.query<{ xmin: string; ids: string[] | string }>(
      `SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS xmin,
         ARRAY(SELECT identity_id FROM ${this.schema}.identity_profiles WHERE known_tx >= $1::xid8) AS ids`,
      [this.watermark],
    );
    const ids = rows[0].ids;
    this.add(typeof ids === 'string' ? parseTextArray(ids) : ids);
    this.watermark = rows[0].xmin;
  }
}

/** PGlite may hand a text[] back in its text form (`{a,"b c"}`). */
function parseTextArray(text: string): string[] {
  const inner = text.slice(1, -1);
  if (inner === '') return [];
  const values: string[] = [];
  const pattern = /"((?:[^"\\]|\\.)*)"|([^,]+)/g;
  for (let match = pattern.exec(inner); match; match = pattern.exec(inner)) values.push(match[1] !== undefined ? match[1].replace(/\\(.)/g, '$1') : match[2]);
  return values;
}
