import type { CustosEvent, EventStore, SqlDatabase, SqlExecutor } from '@custos/platform/event-store';
import { SqlProjection } from '@custos/platform/runtime';
import { REQUEST_STREAM_PREFIXES, requestStreamId, type RequestEvent } from '@custos/request/contracts';
import { describeRequest, openRound, type RequestAnswer } from '../../request-answer';

const VIEW = 'requests-view.v1';

export interface RequestFilter {
  beneficiaryId?: string;
  requesterId?: string;
  status?: string;
  /** The cursor of the previous page (`next`). */
  after?: string;
  limit: number;
}

/** One item of an approver's inbox: the request as GET answers it, and the step waiting for them. */
export interface PendingApproval {
  request: RequestAnswer;
  /** 0: the request itself; n: its n-th extension. */
  round: number;
  step: number;
  /** When the step opened. */
  since: string;
}

/**
 * The requests read model: one row per request (its answer, newest first by submission) and one
 * row per approver who may decide a request's open step now (the inbox of GET /approvals). A
 * projection of the request streams with its checkpoint in the same transaction; each batch
 * refolds the requests it touches from their streams, so the rows are what GET would answer.
 */
export class RequestsView extends SqlProjection {
  constructor(db: SqlDatabase, store: EventStore, schema: string) {
    super(db, store, schema, VIEW, { streamPrefixes: [REQUEST_STREAM_PREFIXES.request] });
  }

  async migrate(x: SqlExecutor = this.db): Promise<void> {
    await x.query(`CREATE TABLE IF NOT EXISTS ${this.schema}.requests (
      request_id text PRIMARY KEY, requester_id text NOT NULL, beneficiary_id text NOT NULL, status text NOT NULL,
      submitted_at timestamptz NOT NULL, answer jsonb NOT NULL)`);
    await x.query(`CREATE INDEX IF NOT EXISTS requests_beneficiary ON ${this.schema}.requests (beneficiary_id, submitted_at DESC, request_id DESC)`);
    await x.query(`CREATE INDEX IF NOT EXISTS requests_requester ON ${this.schema}.requests (requester_id, submitted_at DESC, request_id DESC)`);
    await x.query(`CREATE INDEX IF NOT EXISTS requests_submitted ON ${this.schema}.requests (submitted_at DESC, request_id DESC)`);
    await x.query(`CREATE TABLE IF NOT EXISTS ${this.schema}.request_approvers (
      request_id text NOT NULL, approver_id text NOT NULL, step int NOT NULL, since timestamptz NOT NULL, PRIMARY KEY (approver_id, request_id))`);
    // An inbox item names its round (an extension is decided like the request); rows written before were all of round 0.
    await x.query(`ALTER TABLE ${this.schema}.request_approvers ADD COLUMN IF NOT EXISTS round int NOT NULL DEFAULT 0`);
    await x.query(`CREATE INDEX IF NOT EXISTS request_approvers_request ON ${this.schema}.request_approvers (request_id)`);
  }

  async project(events: CustosEvent[], tx: SqlExecutor): Promise<void> {
    const requestIds = [...new Set(events.filter((e) => e.subject.startsWith(REQUEST_STREAM_PREFIXES.request)).map((e) => e.subject.slice(REQUEST_STREAM_PREFIXES.request.length)))];
    if (requestIds.length === 0) return;
    const streams = await this.store.readStreams(requestIds.map(requestStreamId), { tx });
    const rows: Array<{ request_id: string; requester_id: string; beneficiary_id: string; status: string; submitted_at: string; answer: RequestAnswer }> = [];
    const approvers: Array<{ request_id: string; approver_id: string; round: number; step: number; since: string }> = [];
    for (const requestId of requestIds) {
      const stored = streams.get(requestStreamId(requestId)) ?? [];
      const { answer } = describeRequest(stored.map((e) => ({ type: e.name, data: e.data }) as RequestEvent));
      if (!answer) continue;
      rows.push({ request_id: requestId, requester_id: answer.requesterId, beneficiary_id: answer.beneficiaryId, status: answer.status, submitted_at: answer.submittedAt, answer });
      const open = openRound(answer);
      if (!open) continue;
      const step = open.steps[open.step];
      const decided = new Set(step.decisions.map((d) => d.onBehalfOf ?? d.approverId));
      for (const approverId of new Set([...step.approverIds, ...(step.escalatedTo ?? [])])) {
        if (!decided.has(approverId)) approvers.push({ request_id: requestId, approver_id: approverId, round: open.round, step: open.step, since: step.requestedAt ?? answer.submittedAt });
      }
    }
    await tx.query(
      `INSERT INTO ${this.schema}.requests (request_id, requester_id, beneficiary_id, status, submitted_at, answer)
       SELECT * FROM jsonb_to_recordset($1::jsonb) AS r(request_id text, requester_id text, beneficiary_id text, status text, submitted_at timestamptz, answer jsonb)
       ON CONFLICT (request_id) DO UPDATE SET status = EXCLUDED.status, answer = EXCLUDED.answer`,
      [JSON.stringify(rows)],
    );
    await tx.query(`DELETE FROM ${this.schema}.request_approvers WHERE request_id = ANY($1::text[])`, [requestIds]);
    if (approvers.length > 0) {
      await tx.query(
        `INSERT INTO ${this.schema}.request_approvers (request_id, approver_id, round, step, since)
         SELECT * FROM jsonb_to_recordset($1::jsonb) AS r(request_id text, approver_id text, round int, step int, since timestamptz)`,
        [JSON.stringify(approvers)],
      );
    }
  }

  async get(requestId: string): Promise<RequestAnswer | undefined> {
    const { rows } = await this.db.query<{ answer: RequestAnswer | string }>(`SELECT answer FROM ${this.schema}.requests WHERE request_id = $1`, [requestId]);
    return rows[0] ? parse(rows[0].answer) : undefined;
  }

  /** Requests newest first, filtered, a page at a time: `next` is the cursor of the following page (null on the last). */
  async list(filter: RequestFilter): Promise<{ items: RequestAnswer[]; next: string | null }> {
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (sql: string, ...values: unknown[]) => {
      let text = sql;
      for (const value of values) {
        params.push(value);
        text = text.replace('?', `$${params.length}`);
      }
      where.push(text);
    };
    if (filter.beneficiaryId) add('beneficiary_id = ?', filter.beneficiaryId);
    if (filter.requesterId) add('requester_id = ?', filter.requesterId);
    if (filter.status) add('status = ?', filter.status);
    const cursor = filter.after ? decodeCursor(filter.after) : undefined;
    if (cursor) add('(submitted_at, request_id) < (?::timestamptz, ?)', cursor.submittedAt, cursor.requestId);
    params.push(filter.limit + 1);
    const { rows } = await this.db.query<{ answer: RequestAnswer | string }>(
      `SELECT answer FROM ${this.schema}.requests ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY submitted_at DESC, request_id DESC LIMIT $${params.length}`,
      params,
    );
    const items = rows.slice(0, filter.limit).map((r) => parse(r.answer));
    const last = items[items.length - 1];
    return { items, next: rows.length > filter.limit && last ? encodeCursor(last) : null };
  }

  /** What waits for this approver's decision now, longest waiting first. */
  async pendingFor(approverId: string, limit = 100): Promise<PendingApproval[]> {
    const { rows } = await this.db.query<{ answer: RequestAnswer | string; round: number; step: number; since: Date | string }>(
      `SELECT r.answer, a.round, a.step, a.since FROM ${this.schema}.request_approvers a JOIN ${this.schema}.requests r USING (request_id)
       WHERE a.approver_id = $1 ORDER BY a.since, a.request_id LIMIT $2`,
      [approverId, limit],
    );
    return rows.map((r) => ({ request: parse(r.answer), round: r.round, step: r.step, since: new Date(r.since).toISOString() }));
  }
}

function encodeCursor(answer: RequestAnswer): string {
  return Buffer.from(JSON.stringify([answer.submittedAt, answer.requestId])).toString('base64url');
}

/** A cursor that is not one of ours reads as no cursor at all would be a silent restart: it is refused instead. */
export function decodeCursor(cursor: string): { submittedAt: string; requestId: string } {
  try {
    const [submittedAt, requestId] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [unknown, unknown];
    if (typeof submittedAt === 'string' && typeof requestId === 'string' && !Number.isNaN(Date.parse(submittedAt))) return { submittedAt, requestId };
  } catch {
    // fall through
  }
  throw new InvalidCursor(cursor);
}

/** 400: `after` is not a cursor this API gave out. */
export class InvalidCursor extends Error {
  readonly code = 'validation';
  readonly httpStatus = 400;

  readonly errors: Array<{ field: string; message: string }>;

  constructor(after: string) {
    super('after: not a cursor of this list (use the `next` of the previous page)');
    this.errors = [{ field: 'after', message: `not a cursor of this list: ${after.slice(0, 100)}` }];
  }
}

function parse<T>(value: T | string): T {
  return typeof value === 'string' ? (JSON.parse(value) as T) : value;
}
