import type { AccessGranted, EntitlementChanged, EntitlementDefined } from '@custos/entitlement/contracts';
import type { CustosEvent, SqlDatabase, SqlExecutor } from '@custos/platform/event-store';

/** The shared durable consumer that keeps the gateway's copy of the catalog's target links and of grants' requests. */
export const TARGET_LINKS_CONSUMER = 'gateway-target-links';
export const TARGET_LINK_EVENTS = ['EntitlementDefined', 'EntitlementChanged', 'EntitlementRetired', 'AccessGranted'] as const;

/**
 * TargetLinks is the gateway's copy of what it needs of the entitlement context, from its events
 * (it reads no other context's tables): which entitlements are linked to which target (and
 * whether they are privileged), and the request behind each grant, for the recording. Each
 * entitlement's row keeps the stream version it reflects, so a late redelivery of an older
 * event never undoes a newer one.
 */
export class TargetLinks {
  constructor(
    private readonly db: SqlDatabase,
    private readonly schema: string,
  ) {}

  async migrate(x: SqlExecutor = this.db): Promise<void> {
    await x.query(`CREATE SCHEMA IF NOT EXISTS ${this.schema}`);
    await x.query(
      `CREATE TABLE IF NOT EXISTS ${this.schema}.target_links (
         entitlement text PRIMARY KEY, target text, privileged boolean NOT NULL, retired boolean NOT NULL, version bigint NOT NULL)`,
    );
    await x.query(`CREATE INDEX IF NOT EXISTS target_links_target ON ${this.schema}.target_links (target)`);
    await x.query(`CREATE TABLE IF NOT EXISTS ${this.schema}.grant_requests (grant_id text PRIMARY KEY, request_id text)`);
  }

  async apply(event: CustosEvent, x: SqlExecutor = this.db): Promise<void> {
    const version = event.streamversion;
    switch (event.name) {
      case 'EntitlementDefined': {
        const d = event.data as EntitlementDefined['data'];
        await x.query(
          `INSERT INTO ${this.schema}.target_links (entitlement, target, privileged, retired, version) VALUES ($1, $2, $3, false, $4)
           ON CONFLICT (entitlement) DO UPDATE SET target = EXCLUDED.target, privileged = EXCLUDED.privileged, retired = false, version = EXCLUDED.version
           WHERE target_links.version < EXCLUDED.version`,
          [d.key, d.target ?? null, d.privileged, version],
        );
        return;
      }
      case 'EntitlementChanged': {
        const { key, changes } = event.data as EntitlementChanged['data'];
        // Only a change of the fields kept here moves the row; a change arriving before its definition waits for a redelivery.
        const target = Object.prototype.hasOwnProperty.call(changes, 'target') ? (changes.target ?? null) : undefined;
        const privileged = typeof changes.privileged === 'boolean' ? changes.privileged : undefined;
        const found = await x.query(
          `UPDATE ${this.schema}.target_links SET
             target = CASE WHEN $2::boolean THEN $3 ELSE target END,
             privileged = COALESCE($4, privileged), version = $5
           WHERE entitlement = $1 AND version < $5`,
          [key, target !== undefined, target ?? null, privileged ?? null, version],
        );
        if (found.rowCount === 0) await this.requireKnown(x, key, version);
        return;
      }
      case 'EntitlementRetired': {
        const { key } = event.data as { key: string };
        await x.query(`UPDATE ${this.schema}.target_links SET retired = true, version = $2 WHERE entitlement = $1 AND version < $2`, [key, version]);
        return;
      }
      case 'AccessGranted': {
        const g = event.data as AccessGranted['data'];
        await x.query(`INSERT INTO ${this.schema}.grant_requests (grant_id, request_id) VALUES ($1, $2) ON CONFLICT (grant_id) DO NOTHING`, [g.grantId, g.requestId ?? null]);
        return;
      }
    }
  }

  /** The live entitlements linked to a target. */
  async linkedTo(target: string): Promise<Array<{ entitlement: string; privileged: boolean }>> {
    const { rows } = await this.db.query<{ entitlement: string; privileged: boolean }>(
      `SELECT entitlement, privileged FROM ${this.schema}.target_links WHERE target = $1 AND NOT retired ORDER BY entitlement`,
      [target],
    );
    return rows;
  }

  async requestsOf(grantIds: string[]): Promise<string[]> {
    if (grantIds.length === 0) return [];
    const { rows } = await this.db.query<{ request_id: string }>(
      `SELECT DISTINCT request_id FROM ${this.schema}.grant_requests WHERE grant_id = ANY($1::text[]) AND request_id IS NOT NULL ORDER BY request_id`,
      [grantIds],
    );
    return rows.map((r) => r.request_id);
  }

  private async requireKnown(x: SqlExecutor, key: string, version: number): Promise<void> {
    const { rows } = await x.query<{ version: string }>(`SELECT version FROM ${this.schema}.target_links WHERE entitlement = $1`, [key]);
    if (rows.length === 0 && version > 1) throw new Error(`entitlement ${key} changed before the gateway heard of its definition; redeliver`);
  }
}
