import type { IdentitySnapshot, IdentityStatus } from '@custos/identity/contracts';
import type { CustosEvent, EventStore, SqlDatabase, SqlExecutor } from '@custos/platform/event-store';
import { SqlProjection } from '@custos/platform/runtime';

/** An identity as the API shows it. */
export interface IdentityView extends IdentitySnapshot {
  version: number;
}

export interface IdentityFilter {
  employeeId?: string;
  email?: string;
  department?: string;
  status?: string;
  /** The system of record (see IdentitySnapshot.systemOfRecord). */
  system?: string;
  after?: string;
  limit: number;
}

/**
 * The subscription's name. v2 keeps each identity's system of record: a table from before it
 * (no system_of_record column) is dropped by migrate and rebuilt by replay under this name.
 */
const VIEW = 'identities-view.v2';

/** Events whose source names the system of record when their snapshot does not (recorded before snapshots named it). */
const HIRES = new Set(['IdentityHired', 'IdentityRehired']);

/**
 * The identities read model: one row per identity, the latest snapshot. It is a projection of
 * the identity streams with its checkpoint in the same transaction, so dropping the table and
 * the checkpoint rebuilds it by replay.
 */
export class IdentitiesView extends SqlProjection {
  constructor(db: SqlDatabase, store: EventStore, schema: string) {
    super(db, store, schema, VIEW);
  }

  async migrate(x: SqlExecutor = this.db): Promise<void> {
    // A table of the first version lacks the system of record of identities that have not
    // changed since: rebuilt from the events (VIEW is a new subscription, it starts over).
    const { rows: outdated } = await x.query(
      `SELECT 1 FROM information_schema.tables t WHERE t.table_schema = $1 AND t.table_name = 'identities'
         AND NOT EXISTS (SELECT 1 FROM information_schema.columns c WHERE c.table_schema = $1 AND c.table_name = 'identities' AND c.column_name = 'system_of_record')`,
      [this.schema],
    );
    if (outdated.length > 0) await x.query(`DROP TABLE ${this.schema}.identities`);
    await x.query(`CREATE TABLE IF NOT EXISTS ${this.schema}.identities (
      identity_id text PRIMARY KEY, employee_id text NOT NULL, email text NOT NULL, department text, status text NOT NULL,
      snapshot jsonb NOT NULL, version int NOT NULL, system_of_record text) WITH (fillfactor = 70)`);
    await x.query(`CREATE INDEX IF NOT EXISTS identities_system ON ${this.schema}.identities (system_of_record, identity_id)`);
    await x.query(`CREATE INDEX IF NOT EXISTS identities_employee ON ${this.schema}.identities (employee_id)`);
    await x.query(`CREATE INDEX IF NOT EXISTS identities_email ON ${this.schema}.identities (lower(email))`);
    await x.query(`CREATE INDEX IF NOT EXISTS identities_department ON ${this.schema}.identities (department, identity_id)`);
  }

  /**
   * Projects a batch in two statements, whatever its size: each identity's newest snapshot, then
   * the version of those whose newest event carried none. The version guards make it the same as
   * applying the events one by one in stream order. The system of record is the newest one an
   * event names (its snapshot, or an older hire's or rehire's source); a row keeps its own
   * while no event names one.
   */
  async project(events: CustosEvent[], tx: SqlExecutor): Promise<void> {
    const latest = new Map<string, { snapshot?: IdentitySnapshot; snapshotVersion: number; version: number; system?: string; systemVersion: number }>();
    for (const event of events) {
      const data = event.data as { identityId?: string; identity?: IdentitySnapshot; source?: { system?: string } };
      if (!data.identityId) continue;
      const seen = latest.get(data.identityId) ?? { snapshotVersion: 0, version: 0, systemVersion: 0 };
      if (data.identity && event.streamversion > seen.snapshotVersion) {
        seen.snapshot = data.identity;
        seen.snapshotVersion = event.streamversion;
      }
      const system = data.identity?.systemOfRecord ?? (HIRES.has(event.name) ? data.source?.system : undefined);
      if (system !== undefined && event.streamversion > seen.systemVersion) {
        seen.system = system;
        seen.systemVersion = event.streamversion;
      }
      seen.version = Math.max(seen.version, event.streamversion);
      latest.set(data.identityId, seen);
    }
    const snapshots = [...latest.values()].flatMap(({ snapshot: s, snapshotVersion, system }) =>
      s
        ? [{ identity_id: s.identityId, employee_id: s.employeeId, email: s.email, department: s.department ?? null, status: s.status, snapshot: s, version: snapshotVersion, system_of_record: system ?? null }]
        : [],
    );
    if (snapshots.length > 0) {
      await tx.query(
        `INSERT INTO ${this.schema}.identities (identity_id, employee_id, email, department, status, snapshot, version, system_of_record)
         SELECT * FROM jsonb_to_recordset($1::jsonb)
           AS r(identity_id text, employee_id text, email text, department text, status text, snapshot jsonb, version int, system_of_record text)
         ON CONFLICT (identity_id) DO UPDATE SET employee_id = EXCLUDED.employee_id, email = EXCLUDED.email, department = EXCLUDED.department,
           status = EXCLUDED.status, snapshot = EXCLUDED.snapshot, version = EXCLUDED.version,
           system_of_record = coalesce(EXCLUDED.system_of_record, ${this.schema}.identities.system_of_record)
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
    const { rows } = await this.db.query<Row>(`SELECT snapshot, version, system_of_record FROM ${this.schema}.identities WHERE identity_id = $1`, [identityId]);
    return rows[0] ? toView(rows[0]) : null;
  }

  /**
   * The identities whose address is `email`, matched without regard to case (the lower(email)
   * index), with their status: at most `limit`, those that have not left first, then in
   * identity id order (so that a few rows always show every holder who has not left, up to `limit`).
   */
  async holdersOfEmail(email: string, limit = 10): Promise<Array<{ identityId: string; status: IdentityStatus }>> {
    const { rows } = await this.db.query<{ identity_id: string; status: IdentityStatus }>(
      `SELECT identity_id, status FROM ${this.schema}.identities WHERE lower(email) = lower($1) ORDER BY status = 'terminated', identity_id LIMIT $2`,
      [email, limit],
    );
    return rows.map((row) => ({ identityId: row.identity_id, status: row.status }));
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
    if (filter.system) add('system_of_record = ?', filter.system);
    if (filter.after) add('identity_id > ?', filter.after);
    params.push(filter.limit + 1);
    const { rows } = await this.db.query<Row>(
      `SELECT snapshot, version, system_of_record FROM ${this.schema}.identities ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY identity_id LIMIT $${params.length}`,
      params,
    );
    const items = rows.slice(0, filter.limit).map(toView);
    return { items, next: rows.length > filter.limit ? items[items.length - 1].identityId : null };
  }
}

interface Row {
  snapshot: IdentitySnapshot | string;
  version: number;
  system_of_record: string | null;
}

/** The identity of a row; a snapshot recorded before snapshots named their system of record gets the row's. */
function toView(row: Row): IdentityView {
  const snapshot = typeof row.snapshot === 'string' ? (JSON.parse(row.snapshot) as IdentitySnapshot) : row.snapshot;
  const system = snapshot.systemOfRecord ?? row.system_of_record ?? undefined;
  return { ...snapshot, ...(system === undefined ? {} : { systemOfRecord: system }), version: Number(row.version) };
}
