import type { IdentitySnapshot } from '@custos/identity/contracts';
import type { CustosEvent, EventStore, SqlDatabase, SqlExecutor, Subscription } from '@custos/platform/event-store';

/** An identity as the API shows it. */
export interface IdentityView extends IdentitySnapshot {
  version: number;
}

export interface IdentityFilter {
  employeeId?: string;
  email?: string;
  department?: string;
  status?: string;
  after?: string;
  limit: number;
}

const VIEW = 'identities-view';

/**
 * The identities read model: one row per identity, the latest snapshot. It is a projection of
 * the identity streams with its checkpoint in the same transaction, so dropping the table and
 * the checkpoint rebuilds it by replay.
 */
export class IdentitiesView {
  private subscription?: Subscription;

  constructor(
    private readonly db: SqlDatabase,
    private readonly store: EventStore,
    private readonly schema: string,
  ) {}

  async migrate(x: SqlExecutor = this.db): Promise<void> {
    await x.query(`CREATE TABLE IF NOT EXISTS ${this.schema}.identities (
      identity_id text PRIMARY KEY, employee_id text NOT NULL, email text NOT NULL, department text, status text NOT NULL,
      snapshot jsonb NOT NULL, version int NOT NULL) WITH (fillfactor = 70)`);
    await x.query(`CREATE INDEX IF NOT EXISTS identities_employee ON ${this.schema}.identities (employee_id)`);
    await x.query(`CREATE INDEX IF NOT EXISTS identities_email ON ${this.schema}.identities (lower(email))`);
    await x.query(`CREATE INDEX IF NOT EXISTS identities_department ON ${this.schema}.identities (department, identity_id)`);
  }

  start(onError: (error: unknown) => void): void {
    this.subscription = this.store.subscribe(VIEW, (events, tx) => this.project(events, tx), { onError, pollIntervalMs: 50 });
  }

  /** Resolves once the view reflects everything stored so far. */
  async caughtUp(): Promise<void> {
    await this.subscription?.caughtUp();
  }

  async stop(): Promise<void> {
    await this.subscription?.stop();
  }

  /**
   * Projects a batch in two statements, whatever its size: each identity's newest snapshot, then
   * the version of those whose newest event carried none. The version guards make it the same as
   * applying the events one by one in stream order.
   */
  private async project(events: CustosEvent[], tx: SqlExecutor): Promise<void> {
    const latest = new Map<string, { snapshot?: IdentitySnapshot; snapshotVersion: number; version: number }>();
    for (const event of events) {
      const data = event.data as { identityId?: string; identity?: IdentitySnapshot };
      if (!data.identityId) continue;
      const seen = latest.get(data.identityId) ?? { snapshotVersion: 0, version: 0 };
      if (data.identity && event.streamversion > seen.snapshotVersion) {
        seen.snapshot = data.identity;
        seen.snapshotVersion = event.streamversion;
      }
      seen.version = Math.max(seen.version, event.streamversion);
      latest.set(data.identityId, seen);
    }
    const snapshots = [...latest.values()].flatMap(({ snapshot: s, snapshotVersion }) =>
      s ? [{ identity_id: s.identityId, employee_id: s.employeeId, email: s.email, department: s.department ?? null, status: s.status, snapshot: s, version: snapshotVersion }] : [],
    );
    if (snapshots.length > 0) {
      await tx.query(
        `INSERT INTO ${this.schema}.identities (identity_id, employee_id, email, department, status, snapshot, version)
         SELECT * FROM jsonb_to_recordset($1::jsonb)
           AS r(identity_id text, employee_id text, email text, department text, status text, snapshot jsonb, version int)
         ON CONFLICT (identity_id) DO UPDATE SET employee_id = EXCLUDED.employee_id, email = EXCLUDED.email, department = EXCLUDED.department,
           status = EXCLUDED.status, snapshot = EXCLUDED.snapshot, version = EXCLUDED.version
         WHERE ${this.schema}.identities.version < EXCLUDED.version`,
        [JSON.stringify(snapshots)],
      );
    }
    // A change recorded without changing the identity still moves its version; after the
    // snapshot above, so that one followed by such a change keeps the snapshot and the later version.
    const moved = [...latest].filter(([, seen]) => seen.version > seen.snapshotVersion);
    if (moved.length > 0) {
      await tx.query(
        `UPDATE ${this.schema}.identities AS i SET version = m.version
         FROM unnest($1::text[], $2::int[]) AS m(identity_id, version)
         WHERE i.identity_id = m.identity_id AND i.version < m.version`,
        [moved.map(([identityId]) => identityId), moved.map(([, seen]) => seen.version)],
      );
    }
  }

  async get(identityId: string): Promise<IdentityView | null> {
    const { rows } = await this.db.query<{ snapshot: IdentitySnapshot | string; version: number }>(`SELECT snapshot, version FROM ${this.schema}.identities WHERE identity_id = $1`, [identityId]);
    return rows[0] ? toView(rows[0]) : null;
  }

  async list(filter: IdentityFilter): Promise<{ items: IdentityView[]; next: string | null }> {
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (sql: string, value: unknown) => {
      params.push(value);
      where.push(sql.replace('?', `$${params.length}`));
    };
    if (filter.employeeId) add('employee_id = ?', filter.employeeId);
    if (filter.email) add('lower(email) = lower(?)', filter.email);
    if (filter.department) add('department = ?', filter.department);
    if (filter.status) add('status = ?', filter.status);
    if (filter.after) add('identity_id > ?', filter.after);
    params.push(filter.limit + 1);
    const { rows } = await this.db.query<{ snapshot: IdentitySnapshot | string; version: number }>(
      `SELECT snapshot, version FROM ${this.schema}.identities ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY identity_id LIMIT $${params.length}`,
      params,
    );
    const items = rows.slice(0, filter.limit).map(toView);
    return { items, next: rows.length > filter.limit ? items[items.length - 1].identityId : null };
  }
}

function toView(row: { snapshot: IdentitySnapshot | string; version: number }): IdentityView {
  const snapshot = typeof row.snapshot === 'string' ? (JSON.parse(row.snapshot) as IdentitySnapshot) : row.snapshot;
  return { ...snapshot, version: Number(row.version) };
}
