import type { IdentitySnapshot } from '@custos/identity/contracts';
import type { SqlDatabase, SqlExecutor } from '@custos/platform/event-store';

/** What the entitlement context knows of an identity: the attributes birthright rules match, and its status. */
export interface IdentityProfile {
  identityId: string;
  status: IdentitySnapshot['status'];
  department?: string;
  title?: string;
  location?: string;
  employmentType?: string;
  costCenter?: string;
  groups: string[];
  managerId?: string;
}

/** profileOf keeps only what this context needs from an identity snapshot. */
export function profileOf(s: IdentitySnapshot): IdentityProfile {
  return {
    identityId: s.identityId,
    status: s.status,
    department: s.department,
    title: s.title,
    location: s.location,
    employmentType: s.employmentType,
    costCenter: s.costCenter,
    groups: s.groups ?? [],
    managerId: s.managerId,
  };
}

/**
 * Identity profiles as learnt from identity events (never from the identity context's tables),
 * written in the same transaction as the access changes they cause. Role and rule changes
 * recompute every profile's birthright from here.
 */
export class IdentityProfiles {
  constructor(
    private readonly db: SqlDatabase,
    private readonly schema: string,
  ) {}

  async migrate(x: SqlExecutor = this.db): Promise<void> {
    await x.query(`CREATE TABLE IF NOT EXISTS ${this.schema}.identity_profiles (
      identity_id text PRIMARY KEY, status text NOT NULL, profile jsonb NOT NULL, updated_at timestamptz NOT NULL DEFAULT now()) WITH (fillfactor = 70)`);
    // The transaction that first recorded the identity (never updated, so updates stay HOT):
    // KnownIdentities reads new identities in this order.
    await x.query(`ALTER TABLE ${this.schema}.identity_profiles ADD COLUMN IF NOT EXISTS known_tx xid8 NOT NULL DEFAULT pg_current_xact_id()`);
    await x.query(`CREATE INDEX IF NOT EXISTS identity_profiles_known_tx_idx ON ${this.schema}.identity_profiles (known_tx)`);
  }

  /**
   * Records profiles in one statement, as if one by one in order: of several for one identity,
   * the last wins.
   */
  async recordMany(tx: SqlExecutor, profiles: IdentityProfile[]): Promise<void> {
    // One row per identity: an upsert may not change a row twice.
    const latest = [...new Map(profiles.map((p) => [p.identityId, p])).values()];
    if (latest.length === 0) return;
    await tx.query(
      `INSERT INTO ${this.schema}.identity_profiles (identity_id, status, profile)
       SELECT p->>'identityId', p->>'status', p FROM jsonb_array_elements($1::jsonb) AS p
       ON CONFLICT (identity_id) DO UPDATE SET status = EXCLUDED.status, profile = EXCLUDED.profile, updated_at = now()`,
      [JSON.stringify(latest)],
    );
  }

  async get(identityId: string, tx: SqlExecutor = this.db): Promise<IdentityProfile | null> {
    const { rows } = await tx.query<{ profile: IdentityProfile | string }>(`SELECT profile FROM ${this.schema}.identity_profiles WHERE identity_id = $1`, [identityId]);
    return rows[0] ? parse(rows[0].profile) : null;
  }

  /** Every active identity, page by page (for recomputation and previews). */
  async *active(x: SqlExecutor = this.db, pageSize = 1000): AsyncGenerator<IdentityProfile[]> {
    let after = '';
    for (;;) {
      const { rows } = await x.query<{ identity_id: string; profile: IdentityProfile | string }>(
        `SELECT identity_id, profile FROM ${this.schema}.identity_profiles WHERE status = 'active' AND identity_id > $1 ORDER BY identity_id LIMIT $2`,
        [after, pageSize],
      );
      if (rows.length === 0) return;
      yield rows.map((r) => parse(r.profile));
      after = rows[rows.length - 1].identity_id;
    }
  }
}

function parse(value: IdentityProfile | string): IdentityProfile {
  return typeof value === 'string' ? (JSON.parse(value) as IdentityProfile) : value;
}
