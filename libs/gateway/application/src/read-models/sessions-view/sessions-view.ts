import { GATEWAY_STREAM_PREFIXES, type SessionEnded, type SessionMarkedIncomplete, type SessionRefused, type SessionStarted, type StatementsRecorded } from '@custos/gateway/contracts';
import type { CustosEvent, EventStore, SqlDatabase, SqlExecutor } from '@custos/platform/event-store';
import { SqlProjection } from '@custos/platform/runtime';

const VIEW = 'sessions-view.v1';

/** A session as GET /sessions lists it. */
export interface SessionSummary {
  sessionId: string;
  status: 'live' | 'ended' | 'incomplete' | 'refused';
  identityId: string;
  target: string;
  grantIds: string[];
  requestIds: string[];
  clientAddress: string;
  startedAt: string;
  endedAt?: string;
  /** Why it ended, or why it was refused. */
  reason?: string;
  endedBy?: string;
  statements: number;
  gatewayId?: string;
}

interface Row {
  session_id: string;
  status: SessionSummary['status'];
  identity_id: string;
  target: string;
  grant_ids: string[];
  request_ids: string[];
  client_address: string;
  started_at: Date | string;
  ended_at: Date | string | null;
  reason: string | null;
  ended_by: string | null;
  statements: number;
  gateway_id: string | null;
}

export interface SessionQuery {
  identityId?: string;
  target?: string;
  from?: string;
  to?: string;
  /** The cursor: sessions started before this one (by start time, then id). */
  after?: { startedAt: string; sessionId: string };
  limit: number;
}

/**
 * The sessions read model: one row per session stream (and per refused attempt), kept from the
 * gateway's events with its checkpoint in the same transaction; it answers GET /sessions and
 * tells a restarting gateway which of its sessions were left live.
 */
export class SessionsView extends SqlProjection {
  constructor(db: SqlDatabase, store: EventStore, schema: string) {
    super(db, store, schema, VIEW, { streamPrefixes: [...GATEWAY_STREAM_PREFIXES] });
  }

  async migrate(x: SqlExecutor = this.db): Promise<void> {
    await x.query(`CREATE SCHEMA IF NOT EXISTS ${this.schema}`);
    await x.query(`CREATE TABLE IF NOT EXISTS ${this.schema}.sessions (
      session_id text PRIMARY KEY, status text NOT NULL, identity_id text NOT NULL, target text NOT NULL, grant_ids text[] NOT NULL, request_ids text[] NOT NULL,
      client_address text NOT NULL, started_at timestamptz NOT NULL, ended_at timestamptz, reason text, ended_by text, statements integer NOT NULL, gateway_id text)`);
    await x.query(`CREATE INDEX IF NOT EXISTS sessions_started ON ${this.schema}.sessions (started_at DESC, session_id DESC)`);
    await x.query(`CREATE INDEX IF NOT EXISTS sessions_live ON ${this.schema}.sessions (gateway_id) WHERE status = 'live'`);
  }

  async project(events: readonly CustosEvent[], tx: SqlExecutor): Promise<void> {
    for (const event of events) {
      switch (event.name) {
        case 'SessionStarted': {
          const d = event.data as SessionStarted['data'];
          await tx.query(
            `INSERT INTO ${this.schema}.sessions (session_id, status, identity_id, target, grant_ids, request_ids, client_address, started_at, statements, gateway_id)
             VALUES ($1, 'live', $2, $3, $4, $5, $6, $7, 0, $8) ON CONFLICT (session_id) DO NOTHING`,
            [d.sessionId, d.identityId, d.target, d.grantIds, d.requestIds, d.clientAddress, d.startedAt, d.gatewayId],
          );
          break;
        }
        case 'StatementsRecorded': {
          const d = event.data as StatementsRecorded['data'];
          const last = d.statements[d.statements.length - 1]?.seq ?? 0;
          await tx.query(`UPDATE ${this.schema}.sessions SET statements = GREATEST(statements, $2) WHERE session_id = $1`, [d.sessionId, last]);
          break;
        }
        case 'SessionEnded': {
          const d = event.data as SessionEnded['data'];
          await tx.query(`UPDATE ${this.schema}.sessions SET status = 'ended', ended_at = $2, reason = $3, ended_by = $4 WHERE session_id = $1 AND status = 'live'`, [
            d.sessionId,
            d.endedAt,
            d.reason,
            d.endedBy,
          ]);
          break;
        }
        case 'SessionMarkedIncomplete': {
          const d = event.data as SessionMarkedIncomplete['data'];
          await tx.query(
            `UPDATE ${this.schema}.sessions SET status = 'incomplete', ended_at = $2, reason = 'gateway-restarted', ended_by = 'system:gateway' WHERE session_id = $1 AND status = 'live'`,
            [d.sessionId, d.markedAt],
          );
          break;
        }
        case 'SessionRefused': {
          const d = event.data as SessionRefused['data'];
          await tx.query(
            `INSERT INTO ${this.schema}.sessions (session_id, status, identity_id, target, grant_ids, request_ids, client_address, started_at, ended_at, reason, statements)
             VALUES ($1, 'refused', $2, $3, '{}', '{}', $4, $5, $5, $6, 0) ON CONFLICT (session_id) DO NOTHING`,
            [d.sessionId, d.user, d.target, d.clientAddress, d.refusedAt, d.reason],
          );
          break;
        }
      }
    }
  }

  async list(query: SessionQuery): Promise<SessionSummary[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (clause: (p: string) => string, value: unknown) => {
      params.push(value);
      where.push(clause(`$${params.length}`));
    };
    if (query.identityId !== undefined) add((p) => `identity_id = ${p}`, query.identityId);
    if (query.target !== undefined) add((p) => `target = ${p}`, query.target);
    if (query.from !== undefined) add((p) => `started_at >= ${p}`, query.from);
    if (query.to !== undefined) add((p) => `started_at < ${p}`, query.to);
    if (query.after) {
      params.push(query.after.startedAt, query.after.sessionId);
      where.push(`(started_at, session_id) < ($${params.length - 1}::timestamptz, $${params.length})`);
    }
    params.push(query.limit);
    const { rows } = await this.db.query<Row>(
      `SELECT * FROM ${this.schema}.sessions ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY started_at DESC, session_id DESC LIMIT $${params.length}`,
      params,
    );
    return rows.map(toSummary);
  }

  async get(sessionId: string): Promise<SessionSummary | undefined> {
    const { rows } = await this.db.query<Row>(`SELECT * FROM ${this.schema}.sessions WHERE session_id = $1`, [sessionId]);
    return rows[0] ? toSummary(rows[0]) : undefined;
  }

  /** The sessions a gateway left live (to mark incomplete when it starts again). */
  async liveOn(gatewayId: string): Promise<string[]> {
    const { rows } = await this.db.query<{ session_id: string }>(`SELECT session_id FROM ${this.schema}.sessions WHERE status = 'live' AND gateway_id = $1`, [gatewayId]);
    return rows.map((r) => r.session_id);
  }
}

const iso = (v: Date | string) => new Date(v).toISOString();

function toSummary(row: Row): SessionSummary {
  return {
    sessionId: row.session_id,
    status: row.status,
    identityId: row.identity_id,
    target: row.target,
    grantIds: row.grant_ids,
    requestIds: row.request_ids,
    clientAddress: row.client_address,
    startedAt: iso(row.started_at),
    ...(row.ended_at ? { endedAt: iso(row.ended_at) } : {}),
    ...(row.reason ? { reason: row.reason } : {}),
    ...(row.ended_by ? { endedBy: row.ended_by } : {}),
    statements: row.statements,
    ...(row.gateway_id ? { gatewayId: row.gateway_id } : {}),
  };
}
