import type { CustosEvent, EventStore, SqlDatabase, SqlExecutor } from '@custos/platform/event-store';
import { SqlProjection } from '@custos/platform/runtime';
import { REQUEST_STREAM_PREFIXES, type Delegation, type DelegationEnded, type DelegationGranted } from '@custos/request/contracts';

const VIEW = 'delegations-view.v1';

/** A delegation as GET /approvals/delegations answers it. */
export interface DelegationAnswer extends Delegation {
  /** scheduled (its `from` lies ahead), active, ended (early, by `endedBy`) or lapsed (past its `until`). */
  status: 'scheduled' | 'active' | 'ended' | 'lapsed';
  grantedAt: string;
  endedAt?: string;
  endedBy?: string;
}

interface DelegationRow {
  delegation_id: string;
  approver_id: string;
  delegate_id: string;
  from_at: Date | string;
  until_at: Date | string;
  granted_at: Date | string;
  ended_at: Date | string | null;
  ended_by: string | null;
}

/**
 * The delegations read model: one row per delegation (stream `delegation-{approverId}`), kept
 * from DelegationGranted and DelegationEnded with its checkpoint in the same transaction. It
 * answers GET /approvals/delegations, finds a delegation's approver by its id, and gives the
 * request service the delegations in force naming an identity as delegate when it decides.
 */
export class DelegationsView extends SqlProjection {
  constructor(db: SqlDatabase, store: EventStore, schema: string) {
    super(db, store, schema, VIEW, { streamPrefixes: [REQUEST_STREAM_PREFIXES.delegation] });
  }

  async migrate(x: SqlExecutor = this.db): Promise<void> {
    await x.query(`CREATE TABLE IF NOT EXISTS ${this.schema}.delegations (
      delegation_id text PRIMARY KEY, approver_id text NOT NULL, delegate_id text NOT NULL, from_at timestamptz NOT NULL, until_at timestamptz NOT NULL,
      granted_at timestamptz NOT NULL, ended_at timestamptz, ended_by text)`);
    await x.query(`CREATE INDEX IF NOT EXISTS delegations_delegate ON ${this.schema}.delegations (delegate_id, until_at)`);
    await x.query(`CREATE INDEX IF NOT EXISTS delegations_approver ON ${this.schema}.delegations (approver_id, until_at)`);
  }

  /** Applies delegation events (a redelivered one changes nothing); exposed for tests that feed events by hand. */
  async project(events: readonly CustosEvent[], tx: SqlExecutor): Promise<void> {
    for (const event of events) {
      if (!event.subject.startsWith(REQUEST_STREAM_PREFIXES.delegation)) continue;
      if (event.name === 'DelegationGranted') {
        const d = event.data as DelegationGranted['data'];
        await tx.query(
          `INSERT INTO ${this.schema}.delegations (delegation_id, approver_id, delegate_id, from_at, until_at, granted_at) VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT (delegation_id) DO NOTHING`,
          [d.delegationId, d.approverId, d.delegateId, d.from, d.until, d.grantedAt],
        );
      } else if (event.name === 'DelegationEnded') {
        const d = event.data as DelegationEnded['data'];
        await tx.query(`UPDATE ${this.schema}.delegations SET ended_at = $2, ended_by = $3 WHERE delegation_id = $1 AND ended_at IS NULL`, [d.delegationId, d.endedAt, d.endedBy]);
      }
    }
  }

  /** The delegations in force at `at` naming `delegateId` as delegate: whose approvals they may give now. */
  async inForceFor(delegateId: string, at: Date, x: SqlExecutor = this.db): Promise<Delegation[]> {
    const { rows } = await x.query<DelegationRow>(
      `SELECT * FROM ${this.schema}.delegations WHERE delegate_id = $1 AND ended_at IS NULL AND from_at <= $2 AND until_at > $2 ORDER BY from_at, delegation_id`,
      [delegateId, at.toISOString()],
    );
    return rows.map((row) => delegationOf(row));
  }

  /** The delegations an identity gave or received, newest first (ended and lapsed ones too, for the record). */
  async involving(identityId: string, at: Date, limit = 200): Promise<DelegationAnswer[]> {
    const { rows } = await this.db.query<DelegationRow>(
      `SELECT * FROM ${this.schema}.delegations WHERE approver_id = $1 OR delegate_id = $1 ORDER BY granted_at DESC, delegation_id DESC LIMIT $2`,
      [identityId, limit],
    );
    return rows.map((row) => answerOf(row, at));
  }

  async get(delegationId: string, at: Date): Promise<DelegationAnswer | undefined> {
    const { rows } = await this.db.query<DelegationRow>(`SELECT * FROM ${this.schema}.delegations WHERE delegation_id = $1`, [delegationId]);
    return rows[0] ? answerOf(rows[0], at) : undefined;
  }
}

const iso = (value: Date | string) => new Date(value).toISOString();

function delegationOf(row: DelegationRow): Delegation {
  return { delegationId: row.delegation_id, approverId: row.approver_id, delegateId: row.delegate_id, from: iso(row.from_at), until: iso(row.until_at) };
}

function answerOf(row: DelegationRow, at: Date): DelegationAnswer {
  const delegation = delegationOf(row);
  const now = at.getTime();
  const status = row.ended_at !== null ? 'ended' : Date.parse(delegation.until) <= now ? 'lapsed' : Date.parse(delegation.from) > now ? 'scheduled' : 'active';
  return {
    ...delegation,
    status,
    grantedAt: iso(row.granted_at),
    ...(row.ended_at !== null && { endedAt: iso(row.ended_at) }),
    ...(row.ended_by !== null && { endedBy: row.ended_by }),
  };
}
