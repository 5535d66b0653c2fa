import type { CustosEvent, SqlDatabase } from '@custos/platform/event-store';
import { bounds, evidenceOf, PointInTime, type Evidence, type When } from '../history/point-in-time';

/** The names of the reports, as the routes name them. */
export const REPORT_NAMES = ['sod-violations', 'privileged-access', 'terminated-with-access', 'deprovisioning', 'jit-usage'] as const;
export type ReportName = (typeof REPORT_NAMES)[number];

/** Every report says which log entries it reflects: the history's position when it was read. */
interface Report<T> {
  items: T[];
  logPosition: number;
}

export interface SodViolation {
  policyKey: string;
  policyName?: string;
  mode?: string;
  severity?: string;
  identityId: string;
  left: { grantId: string; entitlement: string };
  right: { grantId: string; entitlement: string };
  /** When the identity first held both. */
  since: string;
  /** When it stopped holding both; absent while it still does. */
  until?: string;
  /** The approved exception that let one of the two grants through, with who approved it. */
  exception?: { grantId: string; reason?: string; approvedBy?: string; recordedAt: string; seq: number };
}

export interface PrivilegedHolding {
  identityId: string;
  identityStatus?: string;
  entitlement: string;
  risk?: string;
  grantId: string;
  source: string;
  grantedAt: string;
  expiresAt?: string;
  requestId?: string;
  /** Who approved it: the request's approvers, the break-glass reviewers, or the administrator who granted it. */
  approvers: string[];
  grantedBy?: string;
  sodExceptionApprovedBy?: string;
  evidence: Evidence;
}

export interface TerminatedWithAccess {
  identityId: string;
  /** The IdentityTerminated entry. */
  terminationSeq: number;
  terminatedAt: string;
  terminationRecordedAt: string;
  grantId: string;
  entitlement: string;
  source: string;
  /** From the termination (or the grant, if later) ... */
  heldFrom: string;
  /** ... to the grant's end (or the rehire); absent: still held. */
  heldUntil?: string;
  heldSeconds: number;
}

export interface LeaverDeprovisioning {
  identityId: string;
  terminationSeq: number;
  terminatedAt: string;
  recordedAt: string;
  /** When the last grant ended; absent while some are still held. */
  deprovisionedAt?: string;
  /** Termination to the last revocation; for one still open, so far. */
  seconds: number;
  grants?: number;
  withinSlo: boolean;
}

export interface DeprovisioningPeriod {
  period: string;
  leavers: number;
  deprovisioned: number;
  p50?: number;
  p95?: number;
  p99?: number;
  outsideSlo: number;
}

export interface JitUse {
  kind: 'just-in-time' | 'break-glass';
  identityId: string;
  entitlement: string;
  grantId?: string;
  requestId?: string;
  breakGlassId?: string;
  source?: string;
  at: string;
  expiresAt?: string;
  endedAt?: string;
  justification?: string;
  /** Break-glass only: its post-incident review. */
  review?: { state: 'pending' | 'overdue' | 'escalated' | 'justified' | 'not-justified'; dueAt?: string; reviewerId?: string; reviewedAt?: string; comment?: string };
  evidence?: Evidence;
}

const ISO = (column: string, as: string) => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS ${as}`;
const ENDS = (g: string) => `least(${g}.revoked_at, ${g}.expires_at)`;

/**
 * The compliance reports, read from the access history and the log: SoD violations, privileged
 * access, access held after termination, the deprovisioning SLO, just-in-time and break-glass use.
 * Every report is computed from the events (nothing is kept only for it), and says the log
 * position it reflects, which a checkpoint then covers.
 */
export class ComplianceReports {
  private readonly pit: PointInTime;

  constructor(
    private readonly db: SqlDatabase,
    private readonly schema = 'audit',
  ) {
    this.pit = new PointInTime(db, schema);
  }

  /** Identities holding both sides of an SoD policy at the instant (or at any time during the period), with the exceptions approved. */
  async sodViolations(when: When, now = new Date()): Promise<Report<SodViolation>> {
    const s = this.schema;
    const b = bounds(when, now);
    const [{ rows }, logPosition] = await Promise.all([
      this.db.query<{
        key: string; name: string | null; mode: string | null; severity: string | null; identity_id: string;
        left_grant: string; left_entitlement: string; right_grant: string; right_entitlement: string; since: string; until: string | null;
        exception_grant: string | null; exception_reason: string | null; exception_by: string | null; exception_at: string | null; exception_seq: string | null;
      }>(
        `WITH policy AS (
           SELECT key, definition->>'name' AS name, definition->>'mode' AS mode, definition->>'severity' AS severity,
                  ARRAY(SELECT jsonb_array_elements_text(definition->'conflicting'->0)) AS lefts,
                  ARRAY(SELECT jsonb_array_elements_text(definition->'conflicting'->1)) AS rights
           FROM ${s}.sod_policies
         ), pair AS (
           SELECT p.key, p.name, p.mode, p.severity, a.identity_id, a.grant_id AS left_grant, a.entitlement AS left_entitlement,
                  b.grant_id AS right_grant, b.entitlement AS right_entitlement,
                  greatest(a.granted_at, b.granted_at) AS since, least(${ENDS('a')}, ${ENDS('b')}) AS until
           FROM policy p
           JOIN ${s}.grants a ON a.entitlement = ANY(p.lefts)
           JOIN ${s}.grants b ON b.identity_id = a.identity_id AND b.entitlement = ANY(p.rights) AND b.grant_id <> a.grant_id
         )
         SELECT pair.key, pair.name, pair.mode, pair.severity, pair.identity_id, pair.left_grant, pair.left_entitlement, pair.right_grant, pair.right_entitlement,
                ${ISO('pair.since', 'since')}, ${ISO('pair.until', 'until')},
                x.grant_id AS exception_grant, x.reason AS exception_reason, x.approved_by AS exception_by, ${ISO('x.recorded_at', 'exception_at')}, x.seq AS exception_seq
         FROM pair
         LEFT JOIN LATERAL (
           SELECT * FROM ${s}.sod_exceptions e WHERE e.identity_id = pair.identity_id AND e.grant_id IN (pair.left_grant, pair.right_grant) ORDER BY e.seq LIMIT 1
         ) x ON true
         WHERE pair.since <= $1 AND (pair.until IS NULL OR (pair.until > pair.since AND pair.until > $2))
         ORDER BY pair.since, pair.identity_id, pair.key`,
        [b.hi, b.lo],
      ),
      this.pit.position(),
    ]);
    return {
      logPosition,
      items: rows.map((r) => ({
        policyKey: r.key,
        ...(r.name !== null && { policyName: r.name }),
        ...(r.mode !== null && { mode: r.mode }),
        ...(r.severity !== null && { severity: r.severity }),
        identityId: r.identity_id,
        left: { grantId: r.left_grant, entitlement: r.left_entitlement },
        right: { grantId: r.right_grant, entitlement: r.right_entitlement },
        since: r.since,
        ...(r.until !== null && { until: r.until }),
        ...(r.exception_grant !== null && {
          exception: {
            grantId: r.exception_grant,
            ...(r.exception_reason !== null && { reason: r.exception_reason }),
            ...(r.exception_by !== null && { approvedBy: r.exception_by }),
            recordedAt: r.exception_at ?? '',
            seq: Number(r.exception_seq),
          },
        }),
      })),
    };
  }

  /** Holders of privileged entitlements (as the catalog marks them now) at the instant, with expiry and approvers. */
  async privilegedAccess(when: When, now = new Date()): Promise<Report<PrivilegedHolding>> {
    const { rows } = await this.db.query<{ key: string; risk: string | null }>(
      `SELECT key, definition->>'risk' AS risk FROM ${this.schema}.catalog WHERE definition->>'privileged' = 'true'`,
    );
    const risk = new Map(rows.map((r) => [r.key, r.risk]));
    const held = await this.pit.grantsOf([...risk.keys()], when, now);
    return {
      logPosition: held.logPosition,
      items: held.grants.map((g) => {
        const approvers = g.why.request
          ? g.why.request.approvals.map((a) => a.approverId)
          : g.why.breakGlass
            ? g.why.breakGlass.reviews.map((r) => r.reviewerId)
            : g.source === 'admin' && g.why.granted.actor
              ? [g.why.granted.actor]
              : [];
        return {
          identityId: g.identityId,
          ...(held.statuses.get(g.identityId) && { identityStatus: held.statuses.get(g.identityId)?.status }),
          entitlement: g.entitlement,
          ...(risk.get(g.entitlement) && { risk: risk.get(g.entitlement) ?? undefined }),
          grantId: g.grantId,
          source: g.source,
          grantedAt: g.grantedAt,
          ...(g.expiresAt && { expiresAt: g.expiresAt }),
          ...(g.requestId && { requestId: g.requestId }),
          approvers: [...new Set(approvers)],
          ...(g.why.granted.actor && { grantedBy: g.why.granted.actor }),
          ...(g.why.sodException?.approvedBy && { sodExceptionApprovedBy: g.why.sodException.approvedBy }),
          evidence: g.why.granted,
        };
      }),
    };
  }

  /**
   * Access held after a termination took effect (until a rehire), longer than `graceSeconds`: for
   * each leaver whose termination took effect in the period (every leaver without one). It should
   * be empty; `leavers` says how many terminations were checked.
   */
  async terminatedWithAccess(period: { from?: Date; to?: Date }, graceSeconds: number, now = new Date()): Promise<Report<TerminatedWithAccess> & { leavers: number }> {
    const s = this.schema;
    const params = [period.from?.toISOString() ?? null, period.to?.toISOString() ?? null, graceSeconds, now.toISOString()];
    const window = `($1::timestamptz IS NULL OR l.effective_at >= $1) AND ($2::timestamptz IS NULL OR l.effective_at < $2)`;
    const [{ rows }, counted, logPosition] = await Promise.all([
      this.db.query<{
        identity_id: string; seq: string; terminated_at: string; recorded_at: string; grant_id: string; entitlement: string; source: string;
        held_from: string; held_until: string | null; seconds: string | number;
      }>(
        `WITH leaver AS (
           SELECT l.*, (SELECT min(t.effective_at) FROM ${s}.identity_timeline t
                        WHERE t.identity_id = l.identity_id AND t.change = 'rehired' AND t.effective_at > l.effective_at) AS until
           FROM ${s}.leavers l WHERE ${window}
         ), held AS (
           SELECT l.identity_id, l.seq, l.effective_at, l.recorded_at, g.grant_id, g.entitlement, g.source,
                  greatest(g.granted_at, l.effective_at) AS held_from, least(${ENDS('g')}, l.until) AS held_until
           FROM leaver l JOIN ${s}.grants g ON g.identity_id = l.identity_id
             AND g.granted_at < coalesce(l.until, 'infinity') AND (${ENDS('g')} IS NULL OR ${ENDS('g')} > l.effective_at)
         )
         SELECT identity_id, seq, ${ISO('effective_at', 'terminated_at')}, ${ISO('recorded_at', 'recorded_at')}, grant_id, entitlement, source,
                ${ISO('held_from', 'held_from')}, ${ISO('held_until', 'held_until')},
                extract(epoch FROM coalesce(held_until, $4::timestamptz) - held_from) AS seconds
         FROM held WHERE extract(epoch FROM coalesce(held_until, $4::timestamptz) - held_from) > $3
         ORDER BY effective_at, identity_id, grant_id`,
        params,
      ),
      this.db.query<{ n: string }>(`SELECT count(*) AS n FROM ${s}.leavers l WHERE ${window}`, params.slice(0, 2)),
      this.pit.position(),
    ]);
    return {
      logPosition,
      leavers: Number(counted.rows[0].n),
      items: rows.map((r) => ({
        identityId: r.identity_id,
        terminationSeq: Number(r.seq),
        terminatedAt: r.terminated_at,
        terminationRecordedAt: r.recorded_at,
        grantId: r.grant_id,
        entitlement: r.entitlement,
        source: r.source,
        heldFrom: r.held_from,
        ...(r.held_until !== null && { heldUntil: r.held_until }),
        heldSeconds: Number(r.seconds),
      })),
    };
  }

  /**
   * For every leaver whose termination took effect in [from, to): the time from then to the last
   * revocation, p50/p95/p99 per `unit` (day, week, month), and whether it met the SLO. A leaver
   * still holding something counts as outside the SLO once past it.
   */
  async deprovisioning(
    period: { from: Date; to: Date },
    unit: 'day' | 'week' | 'month',
    sloSeconds: number,
    now = new Date(),
  ): Promise<Report<LeaverDeprovisioning> & { sloSeconds: number; periods: DeprovisioningPeriod[]; outsideSlo: LeaverDeprovisioning[] }> {
    const s = this.schema;
    const params = [period.from.toISOString(), period.to.toISOString(), now.toISOString()];
    const seconds = `extract(epoch FROM coalesce(deprovisioned_at, $3::timestamptz) - effective_at)`;
    const [{ rows }, periods, logPosition] = await Promise.all([
      this.db.query<{ identity_id: string; seq: string; terminated_at: string; recorded_at: string; deprovisioned_at: string | null; seconds: string | number; grants: number | null }>(
        `SELECT identity_id, seq, ${ISO('effective_at', 'terminated_at')}, ${ISO('recorded_at', 'recorded_at')}, ${ISO('deprovisioned_at', 'deprovisioned_at')},
                greatest(0, ${seconds}) AS seconds, grants
         FROM ${s}.leavers WHERE effective_at >= $1 AND effective_at < $2 ORDER BY effective_at, seq`,
        params,
      ),
      this.db.query<{ period: string; leavers: string; deprovisioned: string; p50: number | null; p95: number | null; p99: number | null; outside: string }>(
        `SELECT ${ISO(`date_trunc('${unit}', effective_at, 'UTC')`, 'period')}, count(*) AS leavers, count(deprovisioned_at) AS deprovisioned,
                percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM deprovisioned_at - effective_at)) FILTER (WHERE deprovisioned_at IS NOT NULL) AS p50,
                percentile_cont(0.95) WITHIN GROUP (ORDER BY extract(epoch FROM deprovisioned_at - effective_at)) FILTER (WHERE deprovisioned_at IS NOT NULL) AS p95,
                percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM deprovisioned_at - effective_at)) FILTER (WHERE deprovisioned_at IS NOT NULL) AS p99,
                count(*) FILTER (WHERE ${seconds} > $4) AS outside
         FROM ${s}.leavers WHERE effective_at >= $1 AND effective_at < $2
         GROUP BY 1 ORDER BY 1`,
        [...params, sloSeconds],
      ),
      this.pit.position(),
    ]);
    const items = rows.map((r) => ({
      identityId: r.identity_id,
      terminationSeq: Number(r.seq),
      terminatedAt: r.terminated_at,
      recordedAt: r.recorded_at,
      ...(r.deprovisioned_at !== null && { deprovisionedAt: r.deprovisioned_at }),
      seconds: Number(r.seconds),
      ...(r.grants !== null && { grants: r.grants }),
      withinSlo: Number(r.seconds) <= sloSeconds,
    }));
    const figure = (value: number | null) => (value === null ? {} : { value: Math.max(0, Number(value)) });
    return {
      logPosition,
      sloSeconds,
      items,
      outsideSlo: items.filter((i) => !i.withinSlo),
      periods: periods.rows.map((p) => ({
        period: p.period,
        leavers: Number(p.leavers),
        deprovisioned: Number(p.deprovisioned),
        ...('value' in figure(p.p50) && { p50: figure(p.p50).value }),
        ...('value' in figure(p.p95) && { p95: figure(p.p95).value }),
        ...('value' in figure(p.p99) && { p99: figure(p.p99).value }),
        outsideSlo: Number(p.outside),
      })),
    };
  }

  /**
   * Just-in-time grants (those with an end) given in [from, to), and break-glass uses recorded then
   * with the state of their reviews.
   */
  async jitUsage(period: { from: Date; to: Date }, now = new Date()): Promise<Report<JitUse>> {
    const s = this.schema;
    const params = [period.from.toISOString(), period.to.toISOString()];
    const [grants, uses, logPosition] = await Promise.all([
      this.db.query<{ identity_id: string; entitlement: string; grant_id: string; request_id: string | null; source: string; granted_at: string; expires_at: string; ended_at: string | null; reason: string | null }>(
        `SELECT identity_id, entitlement, grant_id, request_id, source, ${ISO('granted_at', 'granted_at')}, ${ISO('expires_at', 'expires_at')},
                ${ISO(ENDS('g'), 'ended_at')}, reason
         FROM ${s}.grants g WHERE expires_at IS NOT NULL AND source <> 'break-glass' AND granted_at >= $1 AND granted_at < $2 ORDER BY granted_at, grant_id`,
        params,
      ),
      this.db.query<{ seq: string; event: CustosEvent | string }>(
        `SELECT seq, event FROM ${s}.log WHERE subject IN (
           SELECT subject FROM ${s}.log WHERE name = 'BreakGlassUsed' AND source = '/custos/request' AND time >= $1 AND time < $2
         ) AND source = '/custos/request' ORDER BY seq`,
        params,
      ),
      this.pit.position(),
    ]);
    const items: JitUse[] = grants.rows.map((r) => ({
      kind: 'just-in-time',
      identityId: r.identity_id,
      entitlement: r.entitlement,
      grantId: r.grant_id,
      ...(r.request_id !== null && { requestId: r.request_id }),
      source: r.source,
      at: r.granted_at,
      expiresAt: r.expires_at,
      ...(r.ended_at !== null && { endedAt: r.ended_at }),
      ...(r.reason !== null && { justification: r.reason }),
    }));
    const byUse = new Map<string, JitUse & { escalated?: boolean }>();
    for (const row of uses.rows) {
      const event = typeof row.event === 'string' ? (JSON.parse(row.event) as CustosEvent) : row.event;
      const data = (event.data ?? {}) as Record<string, unknown>;
      const id = typeof data.breakGlassId === 'string' ? data.breakGlassId : undefined;
      if (!id) continue;
      const use = byUse.get(id);
      if (event.name === 'BreakGlassUsed') {
        const dueAt = typeof data.reviewDueAt === 'string' ? data.reviewDueAt : undefined;
        byUse.set(id, {
          kind: 'break-glass',
          identityId: String(data.identityId),
          entitlement: String(data.entitlement),
          breakGlassId: id,
          at: String(data.usedAt),
          ...(typeof data.expiresAt === 'string' && { expiresAt: data.expiresAt }),
          ...(typeof data.justification === 'string' && { justification: data.justification }),
          review: { state: dueAt && Date.parse(dueAt) < now.getTime() ? 'overdue' : 'pending', ...(dueAt && { dueAt }) },
          evidence: evidenceOf({ seq: Number(row.seq), event }),
        });
      } else if (use?.review && event.name === 'BreakGlassFulfilled' && typeof data.grantId === 'string') {
        use.grantId = data.grantId;
      } else if (use?.review && event.name === 'BreakGlassReviewEscalated' && use.review.state !== 'justified' && use.review.state !== 'not-justified') {
        use.review.state = 'escalated';
      } else if (use?.review && event.name === 'BreakGlassReviewed') {
        use.review = {
          ...use.review,
          state: data.outcome === 'not-justified' ? 'not-justified' : 'justified',
          ...(typeof data.reviewerId === 'string' && { reviewerId: data.reviewerId }),
          ...(typeof data.reviewedAt === 'string' && { reviewedAt: data.reviewedAt }),
          ...(typeof data.comment === 'string' && { comment: data.comment }),
        };
      }
    }
    items.push(...byUse.values());
    items.sort((a, b) => a.at.localeCompare(b.at));
    return { logPosition, items };
  }
}
