import { applyEntitlementChanges, type AccessGranted, type EntitlementChanged, type EntitlementDefined, type EntitlementRetired } from '@custos/entitlement/contracts';
import type { CustosEvent, SqlDatabase, SqlExecutor } from '@custos/platform/event-store';

/** An entitlement's link to a target, as the privileged context keeps it from the entitlement context's events. */
export interface EntitlementLink {
  key: string;
  target?: string;
  targetRole?: string;
  retired: boolean;
}

/**
 * EntitlementLinks is the privileged context's copy of what it needs of the catalog: which
 * entitlements name a target and a role on it; and of the grants made on a request, which
 * request each came from (so that a check-out says why, not only on which grant). It is written
 * by the consumer of the entitlement context's events, in the transaction that claims each event
 * in the inbox.
 */
export class EntitlementLinks {
  constructor(
    private readonly db: SqlDatabase,
    private readonly schema: string,
  ) {}

  async migrate(x: SqlExecutor = this.db): Promise<void> {
    await x.query(`CREATE SCHEMA IF NOT EXISTS ${this.schema}`);
    await x.query(`CREATE TABLE IF NOT EXISTS ${this.schema}.entitlement_links (key text PRIMARY KEY, target text, target_role text, retired boolean NOT NULL DEFAULT false)`);
    await x.query(`CREATE TABLE IF NOT EXISTS ${this.schema}.grant_requests (grant_id text PRIMARY KEY, request_id text NOT NULL)`);
  }

  /** Applies a catalog event (EntitlementDefined, EntitlementChanged, EntitlementRetired); others are ignored. */
  async apply(tx: SqlExecutor, stored: CustosEvent): Promise<void> {
    if (stored.name === 'EntitlementDefined') {
      const d = stored.data as EntitlementDefined['data'];
      await tx.query(`INSERT INTO ${this.schema}.entitlement_links (key, target, target_role) VALUES ($1, $2, $3) ON CONFLICT (key) DO NOTHING`, [d.key, d.target ?? null, d.targetRole ?? null]);
    } else if (stored.name === 'EntitlementChanged') {
      const d = stored.data as EntitlementChanged['data'];
      const current = await this.get(d.key, tx);
      if (!current) return;
      const next = applyEntitlementChanges({ target: current.target, targetRole: current.targetRole }, d.changes);
      await tx.query(`UPDATE ${this.schema}.entitlement_links SET target = $2, target_role = $3 WHERE key = $1`, [d.key, next.target ?? null, next.targetRole ?? null]);
    } else if (stored.name === 'EntitlementRetired') {
      const d = stored.data as EntitlementRetired['data'];
      await tx.query(`UPDATE ${this.schema}.entitlement_links SET retired = true WHERE key = $1`, [d.key]);
    } else if (stored.name === 'AccessGranted') {
      const d = stored.data as AccessGranted['data'];
      if (typeof d.requestId === 'string') {
        await tx.query(`INSERT INTO ${this.schema}.grant_requests (grant_id, request_id) VALUES ($1, $2) ON CONFLICT (grant_id) DO NOTHING`, [d.grantId, d.requestId]);
      }
    }
  }

  /** The request a grant was made on (an access request or a break-glass use), if it was. */
  async requestOf(grantId: string, x: SqlExecutor = this.db): Promise<string | undefined> {
    const { rows } = await x.query<{ request_id: string }>(`SELECT request_id FROM ${this.schema}.grant_requests WHERE grant_id = $1`, [grantId]);
    return rows[0]?.request_id;
  }

  async get(key: string, x: SqlExecutor = this.db): Promise<EntitlementLink | undefined> {
    const { rows } = await x.query<{ key: string; target: string | null; target_role: string | null; retired: boolean }>(`SELECT * FROM ${this.schema}.entitlement_links WHERE key = $1`, [key]);
    const row = rows[0];
    if (!row) return undefined;
    return { key: row.key, ...(row.target !== null && { target: row.target }), ...(row.target_role !== null && { targetRole: row.target_role }), retired: row.retired };
  }
}
