import type { CustosEvent, SqlDatabase } from '@custos/platform/event-store';
import { breakGlassStreamId, requestStreamId } from '@custos/request/contracts';

/**
 * When: an instant (`at`), or a period (`from` inclusive, `to` exclusive: "at any time during").
 * `asOf` is a recorded time: only what Custos had recorded by then counts ("what did Custos know"),
 * as opposed to what was true then (the default: everything recorded up to now).
 */
export type When = { at: Date; asOf?: Date } | { from: Date; to: Date; asOf?: Date };

/** A log entry a fact comes from: its place in the log (for an inclusion proof), its name and when it was recorded. */
export interface Evidence {
  seq: number;
  eventId: string;
  name: string;
  time: string;
  actor?: string;
}

export interface Approval {
  approverId: string;
  onBehalfOf?: string;
  step?: number;
  round?: number;
  decidedAt: string;
  comment?: string;
  evidence: Evidence;
}

/** Why a grant was held: the event that granted it and, behind it, what caused it. */
export interface ReasonChain {
  /** The AccessGranted entry. */
  granted: Evidence;
  /** The event the grant was a consequence of (its causation id): an HR change for a birthright, a role or rule change, a request's approval. */
  cause?: Evidence & { hr?: { system?: string; eventId?: string; channel?: string } };
  request?: {
    requestId: string;
    requesterId?: string;
    justification?: string;
    submittedAt?: string;
    approvedAt?: string;
    approvals: Approval[];
    evidence: Evidence[];
  };
  breakGlass?: {
    breakGlassId: string;
    justification?: string;
    usedAt?: string;
    reviewDueAt?: string;
    reviews: Array<{ reviewerId: string; outcome: string; comment?: string; reviewedAt: string; evidence: Evidence }>;
    evidence: Evidence[];
  };
  sodException?: { reason?: string; approvedBy?: string; conflicts: unknown[]; evidence: { seq: number } };
}

export interface HeldGrant {
  identityId: string;
  grantId: string;
  entitlement: string;
  source: string;
  role?: string;
  ruleKey?: string;
  requestId?: string;
  reason?: string;
  grantedAt: string;
  expiresAt?: string;
  /** When it ended, as known at `asOf`; absent while held. */
  revokedAt?: string;
  revokeReason?: string;
  /** The identity's status had already been terminated (effective) at that instant: access a leaver still held. */
  heldAfterTermination: boolean;
  why: ReasonChain;
}

export interface IdentityStatusAt {
  status: string;
  /** The change that gave it (hired, activated, terminated, rehired) and when it took effect. */
  change: string;
  since: string;
  seq: number;
}

export interface AccessAtAnswer {
  identityId: string;
  at?: string;
  from?: string;
  to?: string;
  asOf: string;
  /** The identity's status at `at` (or at the end of the period), as known at `asOf`; null when not hired yet (or unknown). */
  identity: IdentityStatusAt | null;
  grants: HeldGrant[];
  /** The last log entry the answer reflects: the history's position when it was read. */
  logPosition: number;
}

export interface WhoHadAccessAnswer {
  entitlement: string;
  at?: string;
  from?: string;
  to?: string;
  asOf: string;
  holders: Array<{ identityId: string; identity: IdentityStatusAt | null; grants: HeldGrant[] }>;
  logPosition: number;
}

interface GrantRow {
  identity_id: string;
  grant_id: string;
  entitlement: string;
  source: string;
  role: string | null;
  rule_key: string | null;
  request_id: string | null;
  reason: string | null;
  granted_at: string;
  granted_seq: string;
  granted_event: string;
  granted_by: string | null;
  granted_recorded: string;
  cause: string | null;
  expires_at: string | null;
  revoked_at: string | null;
  revoke_reason: string | null;
}

const ISO = (column: string, as = column) => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS ${as}`;
const LOG_ROW = `seq, event`;

/** bounds: the window of `when`, [lo, hi] inclusive: held if granted at or before `hi` and not ended by `lo`. */
export function bounds(when: When, now: Date): { lo: string; hi: string; asOf: string; label: { at?: string; from?: string; to?: string } } {
  const asOf = (when.asOf ?? now).toISOString();
  if ('at' in when) return { lo: when.at.toISOString(), hi: when.at.toISOString(), asOf, label: { at: when.at.toISOString() } };
  return { lo: when.from.toISOString(), hi: new Date(when.to.getTime() - 1).toISOString(), asOf, label: { from: when.from.toISOString(), to: when.to.toISOString() } };
}

/**
 * Point-in-time questions answered from the access history (AccessHistory), bitemporally: what
 * was held at an instant or during a period (effective times), as Custos knew it at `asOf`
 * (recorded times). Each grant comes with its reason chain, read from the log by the entries'
 * ids and streams. Cost: an index range over the grants of one identity (access-at) or of one
 * entitlement (who-had-access) that started by the instant, plus one read of the log per kind of
 * reason (by event id and by stream, both indexed), whatever the number of events in the log.
 */
export class PointInTime {
  constructor(
    private readonly db: SqlDatabase,
    private readonly schema = 'audit',
  ) {}

  /** The grants `identityId` held at the instant (or during the period), each with why. */
  async accessAt(identityId: string, when: When, now = new Date()): Promise<AccessAtAnswer> {
    const b = bounds(when, now);
    const [grants, statuses, position] = await Promise.all([
      this.grants('g.identity_id = $1', identityId, b),
      this.statuses([identityId], b),
      this.position(),
    ]);
    const identity = statuses.get(identityId) ?? null;
    return { identityId, ...b.label, asOf: b.asOf, identity, grants: await this.explain(grants, statuses), logPosition: position };
  }

  /** The identities that held `entitlement` at the instant (or during the period), each with its grants and why. */
  async whoHadAccess(entitlement: string, when: When, now = new Date()): Promise<WhoHadAccessAnswer> {
    const b = bounds(when, now);
    const [rows, position] = await Promise.all([this.grants('g.entitlement = $1', entitlement, b), this.position()]);
    const statuses = await this.statuses([...new Set(rows.map((r) => r.identity_id))], b);
    const grants = await this.explain(rows, statuses);
    const holders = new Map<string, HeldGrant[]>();
    for (const grant of grants) holders.set(grant.identityId, [...(holders.get(grant.identityId) ?? []), grant]);
    return {
      entitlement,
      ...b.label,
      asOf: b.asOf,
      holders: [...holders].map(([identityId, held]) => ({ identityId, identity: statuses.get(identityId) ?? null, grants: held })),
      logPosition: position,
    };
  }

  /** The grants of any of `entitlements` held at the instant (or during the period), with why: the privileged-access report. */
  async grantsOf(entitlements: string[], when: When, now = new Date()): Promise<{ grants: HeldGrant[]; statuses: Map<string, IdentityStatusAt>; asOf: string; logPosition: number }> {
    const b = bounds(when, now);
    const [rows, position] = await Promise.all([this.grants('g.entitlement = ANY($1::text[])', entitlements, b), this.position()]);
    const statuses = await this.statuses([...new Set(rows.map((r) => r.identity_id))], b);
    return { grants: await this.explain(rows, statuses), statuses, asOf: b.asOf, logPosition: position };
  }

  async position(): Promise<number> {
    const { rows } = await this.db.query<{ seq: string }>(`SELECT seq FROM ${this.schema}.history_position`);
    return Number(rows[0]?.seq ?? 0);
  }

  /**
   * The grants matching `where` held during [lo, hi] as known at asOf: recorded by then, started
   * by hi, and not ended (by a revocation recorded by asOf, or by their expiry) at lo.
   */
  private async grants(where: string, value: unknown, b: { lo: string; hi: string; asOf: string }): Promise<GrantRow[]> {
    const revokedKnown = `CASE WHEN g.revoked_recorded <= $4 THEN g.revoked_at END`;
    const { rows } = await this.db.query<GrantRow>(
      `SELECT g.identity_id, g.grant_id, g.entitlement, g.source, g.role, g.rule_key, g.request_id, g.reason, ${ISO('g.granted_at', 'granted_at')},
              g.granted_seq, g.granted_event, g.granted_by, ${ISO('g.granted_recorded', 'granted_recorded')}, g.cause, ${ISO('g.expires_at', 'expires_at')},
              ${ISO(revokedKnown, 'revoked_at')}, CASE WHEN g.revoked_recorded <= $4 THEN g.revoke_reason END AS revoke_reason
       FROM ${this.schema}.grants g
       WHERE ${where} AND g.granted_at <= $2 AND g.granted_recorded <= $4
         AND (least(${revokedKnown}, g.expires_at) IS NULL OR least(${revokedKnown}, g.expires_at) > $3)
       ORDER BY g.granted_at, g.granted_seq`,
      [value, b.hi, b.lo, b.asOf],
    );
    return rows;
  }

  /** Each identity's status at `hi` as known at asOf: its last status change effective by then. */
  private async statuses(identities: string[], b: { hi: string; asOf: string }): Promise<Map<string, IdentityStatusAt>> {
    if (identities.length === 0) return new Map();
    const { rows } = await this.db.query<{ identity_id: string; status: string; change: string; since: string; seq: string }>(
      `SELECT DISTINCT ON (identity_id) identity_id, status, change, ${ISO('effective_at', 'since')}, seq
       FROM ${this.schema}.identity_timeline
       WHERE identity_id = ANY($1::text[]) AND effective_at <= $2 AND recorded_at <= $3
       ORDER BY identity_id, effective_at DESC, seq DESC`,
      [identities, b.hi, b.asOf],
    );
    return new Map(rows.map((r) => [r.identity_id, { status: r.status, change: r.change, since: r.since, seq: Number(r.seq) }]));
  }

  /** The grants with their reason chains: three reads of the log whatever their number. */
  private async explain(rows: GrantRow[], statuses: Map<string, IdentityStatusAt>): Promise<HeldGrant[]> {
    if (rows.length === 0) return [];
    const byId = new Map<string, { seq: number; event: CustosEvent }>();
    const streams = new Map<string, Array<{ seq: number; event: CustosEvent }>>();
    const ids = new Set<string>();
    for (const row of rows) {
      ids.add(row.granted_event);
      if (row.cause) ids.add(row.cause);
    }
    const subjects = [
      ...new Set(rows.flatMap((r) => (r.request_id === null ? [] : r.source === 'break-glass' ? [breakGlassStreamId(r.request_id)] : r.source === 'request' ? [requestStreamId(r.request_id)] : []))),
    ];
    const [byEvent, bySubject, exceptions] = await Promise.all([
      this.db.query<{ seq: string; event: CustosEvent | string }>(`SELECT ${LOG_ROW} FROM ${this.schema}.log WHERE event_id = ANY($1::text[])`, [[...ids]]),
      subjects.length === 0
        ? Promise.resolve({ rows: [] as Array<{ seq: string; event: CustosEvent | string }> })
        : this.db.query<{ seq: string; event: CustosEvent | string }>(
            `SELECT ${LOG_ROW} FROM ${this.schema}.log WHERE subject = ANY($1::text[]) AND name = ANY($2::text[]) ORDER BY seq`,
            [subjects, ['RequestSubmitted', 'DecisionRecorded', 'RequestApproved', 'ExtensionApproved', 'BreakGlassUsed', 'BreakGlassReviewed']],
          ),
      this.db.query<{ identity_id: string; grant_id: string; seq: string; reason: string | null; approved_by: string | null; conflicts: unknown[] | string }>(
        `SELECT identity_id, grant_id, seq, reason, approved_by, conflicts FROM ${this.schema}.sod_exceptions
         WHERE (identity_id, grant_id) IN (SELECT * FROM unnest($1::text[], $2::text[]))`,
        [rows.map((r) => r.identity_id), rows.map((r) => r.grant_id)],
      ),
    ]);
    for (const row of byEvent.rows) {
      const event = parse(row.event);
      byId.set(event.id, { seq: Number(row.seq), event });
    }
    for (const row of bySubject.rows) {
      const event = parse(row.event);
      const list = streams.get(event.subject ?? '') ?? [];
      list.push({ seq: Number(row.seq), event });
      streams.set(event.subject ?? '', list);
    }
    const exceptionOf = new Map(exceptions.rows.map((e) => [`${e.identity_id}\u0000${e.grant_id}`, e]));
    return rows.map((row) => {
      const grantedEntry = byId.get(row.granted_event);
      const granted: Evidence = grantedEntry
        ? evidenceOf(grantedEntry)
        : { seq: Number(row.granted_seq), eventId: row.granted_event, name: 'AccessGranted', time: row.granted_recorded, ...(row.granted_by && { actor: row.granted_by }) };
      const why: ReasonChain = { granted };
      const causeEntry = row.cause && row.cause !== row.granted_event ? byId.get(row.cause) : undefined;
      if (causeEntry) {
        const source = ownOf(ownOf(causeEntry.event.data).source);
        const hr = causeEntry.event.type.startsWith('custos.identity.') && typeof source.system === 'string'
          ? { hr: { system: source.system, ...(typeof source.eventId === 'string' && { eventId: source.eventId }), ...(typeof source.channel === 'string' && { channel: source.channel }) } }
          : {};
        why.cause = { ...evidenceOf(causeEntry), ...hr };
      }
      if (row.request_id && row.source === 'request') why.request = requestChain(row.request_id, streams.get(requestStreamId(row.request_id)) ?? [], row.granted_at);
      if (row.request_id && row.source === 'break-glass') why.breakGlass = breakGlassChain(row.request_id, streams.get(breakGlassStreamId(row.request_id)) ?? []);
      const exception = exceptionOf.get(`${row.identity_id}\u0000${row.grant_id}`);
      if (exception) {
        why.sodException = {
          ...(exception.reason !== null && { reason: exception.reason }),
          ...(exception.approved_by !== null && { approvedBy: exception.approved_by }),
          conflicts: typeof exception.conflicts === 'string' ? (JSON.parse(exception.conflicts) as unknown[]) : exception.conflicts,
          evidence: { seq: Number(exception.seq) },
        };
      }
      const status = statuses.get(row.identity_id);
      return {
        identityId: row.identity_id,
        grantId: row.grant_id,
        entitlement: row.entitlement,
        source: row.source,
        ...(row.role !== null && { role: row.role }),
        ...(row.rule_key !== null && { ruleKey: row.rule_key }),
        ...(row.request_id !== null && { requestId: row.request_id }),
        ...(row.reason !== null && { reason: row.reason }),
        grantedAt: row.granted_at,
        ...(row.expires_at !== null && { expiresAt: row.expires_at }),
        ...(row.revoked_at !== null && { revokedAt: row.revoked_at }),
        ...(row.revoke_reason !== null && { revokeReason: row.revoke_reason }),
        heldAfterTermination: status?.status === 'terminated',
        why,
      };
    });
  }
}

function parse(event: CustosEvent | string): CustosEvent {
  return typeof event === 'string' ? (JSON.parse(event) as CustosEvent) : event;
}

function ownOf(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

const str = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);
const num = (value: unknown): number | undefined => (typeof value === 'number' ? value : undefined);

export function evidenceOf({ seq, event }: { seq: number; event: CustosEvent }): Evidence {
  return { seq, eventId: event.id, name: event.name ?? event.type, time: event.time, ...(event.actor && { actor: event.actor }) };
}

/** A request's submission and the approvals given up to the grant. */
function requestChain(requestId: string, entries: Array<{ seq: number; event: CustosEvent }>, grantedAt: string): NonNullable<ReasonChain['request']> {
  const chain: NonNullable<ReasonChain['request']> = { requestId, approvals: [], evidence: [] };
  const until = Date.parse(grantedAt);
  for (const entry of entries) {
    const data = ownOf(entry.event.data);
    switch (entry.event.name) {
      case 'RequestSubmitted':
        chain.requesterId = str(data.requesterId);
        chain.justification = str(data.justification);
        chain.submittedAt = str(data.submittedAt);
        break;
      case 'DecisionRecorded': {
        const decidedAt = str(data.decidedAt);
        if (data.decision !== 'approve' || !decidedAt || Date.parse(decidedAt) > until) continue;
        chain.approvals.push({
          approverId: str(data.approverId) ?? '',
          ...(str(data.onBehalfOf) && { onBehalfOf: str(data.onBehalfOf) }),
          ...(num(data.step) !== undefined && { step: num(data.step) }),
          ...(num(data.round) !== undefined && { round: num(data.round) }),
          decidedAt,
          ...(str(data.comment) && { comment: str(data.comment) }),
          evidence: evidenceOf(entry),
        });
        break;
      }
      case 'RequestApproved':
      case 'ExtensionApproved': {
        const approvedAt = str(data.approvedAt);
        if (!approvedAt || Date.parse(approvedAt) > until) continue;
        chain.approvedAt = approvedAt;
        break;
      }
      default:
        continue;
    }
    chain.evidence.push(evidenceOf(entry));
  }
  return chain;
}

/** A break-glass use and its post-incident reviews. */
function breakGlassChain(breakGlassId: string, entries: Array<{ seq: number; event: CustosEvent }>): NonNullable<ReasonChain['breakGlass']> {
  const chain: NonNullable<ReasonChain['breakGlass']> = { breakGlassId, reviews: [], evidence: [] };
  for (const entry of entries) {
    const data = ownOf(entry.event.data);
    if (entry.event.name === 'BreakGlassUsed') {
      chain.justification = str(data.justification);
      chain.usedAt = str(data.usedAt);
      chain.reviewDueAt = str(data.reviewDueAt);
    } else if (entry.event.name === 'BreakGlassReviewed') {
      chain.reviews.push({
        reviewerId: str(data.reviewerId) ?? '',
        outcome: str(data.outcome) ?? '',
        ...(str(data.comment) && { comment: str(data.comment) }),
        reviewedAt: str(data.reviewedAt) ?? '',
        evidence: evidenceOf(entry),
      });
    } else continue;
    chain.evidence.push(evidenceOf(entry));
  }
  return chain;
}
