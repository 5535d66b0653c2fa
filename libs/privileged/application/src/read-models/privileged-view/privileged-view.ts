import type { CustosEvent, EventStore, SqlDatabase, SqlExecutor } from '@custos/platform/event-store';
import { SqlProjection } from '@custos/platform/runtime';
import { PRIVILEGED_STREAM_PREFIXES, type JitAccountRequested, type TargetRegistered, type VaultAccountRegistered } from '@custos/privileged/contracts';

const VIEW = 'privileged-view.v1';

/** A target as GET /targets answers it: never its admin password. */
export interface TargetAnswer {
  key: string;
  kind: string;
  host: string;
  port: number;
  database: string;
  adminUsername: string;
  registeredAt: string;
}

/** A just-in-time account as the reconciliation sees it. */
export interface JitAccountRow {
  grantId: string;
  identityId: string;
  target: string;
  username: string;
  status: 'requested' | 'active' | 'ending' | 'dropped';
}

/**
 * The privileged context's read model, from its own streams: the targets (GET /targets), the
 * vault accounts' links (which account an entitlement's grant may lease), and each just-in-time
 * account's status (what the reconciliation keeps on a target). Rows are upserts and guarded
 * updates, so a batch applied again changes nothing.
 */
export class PrivilegedView extends SqlProjection {
  constructor(db: SqlDatabase, store: EventStore, schema: string) {
    super(db, store, schema, VIEW, { streamPrefixes: Object.values(PRIVILEGED_STREAM_PREFIXES) });
  }

  async migrate(x: SqlExecutor = this.db): Promise<void> {
    await x.query(`CREATE SCHEMA IF NOT EXISTS ${this.schema}`);
    await x.query(`CREATE TABLE IF NOT EXISTS ${this.schema}.targets (
      key text PRIMARY KEY, kind text NOT NULL, host text NOT NULL, port int NOT NULL, database text NOT NULL, admin_username text NOT NULL, registered_at timestamptz NOT NULL)`);
    await x.query(`CREATE TABLE IF NOT EXISTS ${this.schema}.vault_accounts (key text PRIMARY KEY, target text NOT NULL, username text NOT NULL, entitlement text NOT NULL)`);
    await x.query(`CREATE INDEX IF NOT EXISTS vault_accounts_entitlement ON ${this.schema}.vault_accounts (entitlement)`);
    await x.query(`CREATE TABLE IF NOT EXISTS ${this.schema}.jit_accounts (
      grant_id text PRIMARY KEY, identity_id text NOT NULL, target text NOT NULL, username text NOT NULL, status text NOT NULL)`);
    await x.query(`CREATE INDEX IF NOT EXISTS jit_accounts_target ON ${this.schema}.jit_accounts (target, username)`);
  }

  async project(events: readonly CustosEvent[], tx: SqlExecutor): Promise<void> {
    for (const event of events) {
      switch (event.name) {
        case 'TargetRegistered': {
          const d = event.data as TargetRegistered['data'];
          await tx.query(
            `INSERT INTO ${this.schema}.targets (key, kind, host, port, database, admin_username, registered_at) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (key) DO NOTHING`,
            [d.key, d.kind, d.host, d.port, d.database, d.adminUsername, d.registeredAt],
          );
          break;
        }
        case 'VaultAccountRegistered': {
          const d = event.data as VaultAccountRegistered['data'];
          await tx.query(`INSERT INTO ${this.schema}.vault_accounts (key, target, username, entitlement) VALUES ($1, $2, $3, $4) ON CONFLICT (key) DO NOTHING`, [
            d.key,
            d.target,
            d.username,
            d.entitlement,
          ]);
          break;
        }
        case 'JitAccountRequested': {
          const d = event.data as JitAccountRequested['data'];
          await tx.query(
            `INSERT INTO ${this.schema}.jit_accounts (grant_id, identity_id, target, username, status) VALUES ($1, $2, $3, $4, 'requested') ON CONFLICT (grant_id) DO NOTHING`,
            [d.grantId, d.identityId, d.target, d.username],
          );
          break;
        }
        case 'JitAccountCreated':
          await this.status(tx, event, 'active', ['requested']);
          break;
        case 'JitAccountEnding':
          await this.status(tx, event, 'ending', ['requested', 'active']);
          break;
        case 'JitAccountDropped':
          await this.status(tx, event, 'dropped', ['requested', 'active', 'ending']);
          break;
        default:
          break;
      }
    }
  }

  async targets(): Promise<TargetAnswer[]> {
    const { rows } = await this.db.query<{ key: string; kind: string; host: string; port: number; database: string; admin_username: string; registered_at: Date | string }>(
      `SELECT * FROM ${this.schema}.targets ORDER BY key LIMIT 1000`,
    );
    return rows.map((r) => ({ key: r.key, kind: r.kind, host: r.host, port: r.port, database: r.database, adminUsername: r.admin_username, registeredAt: new Date(r.registered_at).toISOString() }));
  }

  /** The vault accounts a grant of `entitlement` may lease. */
  async vaultAccountsOf(entitlement: string, x: SqlExecutor = this.db): Promise<string[]> {
    const { rows } = await x.query<{ key: string }>(`SELECT key FROM ${this.schema}.vault_accounts WHERE entitlement = $1 ORDER BY key`, [entitlement]);
    return rows.map((r) => r.key);
  }

  /** The just-in-time accounts on a target that are not dropped, by username. */
  async liveJitAccounts(target: string): Promise<Map<string, JitAccountRow>> {
    const { rows } = await this.db.query<{ grant_id: string; identity_id: string; target: string; username: string; status: JitAccountRow['status'] }>(
      `SELECT * FROM ${this.schema}.jit_accounts WHERE target = $1 AND status <> 'dropped'`,
      [target],
    );
    return new Map(rows.map((r) => [r.username, { grantId: r.grant_id, identityId: r.identity_id, target: r.target, username: r.username, status: r.status }]));
  }

  private async status(tx: SqlExecutor, event: CustosEvent, status: JitAccountRow['status'], from: string[]): Promise<void> {
    const { grantId } = event.data as { grantId: string };
    await tx.query(`UPDATE ${this.schema}.jit_accounts SET status = $2 WHERE grant_id = $1 AND status = ANY($3::text[])`, [grantId, status, from]);
  }
}
