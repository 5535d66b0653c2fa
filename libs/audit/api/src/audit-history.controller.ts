import { Controller, Get, Headers, Inject, Param, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiExtraModels, ApiOkResponse, ApiOperation, ApiParam, ApiPropertyOptional, ApiProperty, ApiTags, getSchemaPath } from '@nestjs/swagger';
import { IsIn, IsISO8601, IsNotEmpty, IsOptional, IsString, MaxLength } from 'class-validator';
import type { FastifyReply } from 'fastify';
import { ComplianceReports, PointInTime, REPORT_NAMES, type When } from '@custos/audit/application';
import { isoDurationEnd } from '@custos/platform/domain';
import { ApiProblemResponses, badRequest, Roles } from '@custos/platform/http';
import { CONTEXT_RUNTIME, type ContextRuntime } from '@custos/platform/runtime';
import {
  AccessAtAnswer,
  DeprovisioningReport,
  JitUsageReport,
  PrivilegedAccessReport,
  SodViolationsReport,
  TerminatedWithAccessReport,
  WhoHadAccessAnswer,
} from './audit-history.responses';
import { AUDIT_SETTINGS, type AuditSettings } from './audit-settings';
import { csvOf } from './csv';

const TIME = (description: string) => ({ description: `RFC 3339; ${description}`, format: 'date-time' });

class WhenQuery {
  @ApiPropertyOptional(TIME('the instant (not in the future)')) @IsOptional() @IsISO8601({ strict: true }) at?: string;
  @ApiPropertyOptional(TIME('with `to`: at any time during [from, to)')) @IsOptional() @IsISO8601({ strict: true }) from?: string;
  @ApiPropertyOptional(TIME('with `from`, exclusive')) @IsOptional() @IsISO8601({ strict: true }) to?: string;
  @ApiPropertyOptional(TIME('a recorded time: answer with only what Custos had recorded by then ("what did Custos know"); default now')) @IsOptional() @IsISO8601({ strict: true })
  asOf?: string;
}

class AccessAtQuery extends WhenQuery {
  @ApiProperty() @IsString() @IsNotEmpty() @MaxLength(200) identityId!: string;
}

class WhoHadAccessQuery extends WhenQuery {
  @ApiProperty({ example: 'github:org-admin' }) @IsString() @IsNotEmpty() @MaxLength(200) entitlement!: string;
}

class InstantQuery {
  @ApiPropertyOptional(TIME('the instant (default now, not in the future)')) @IsOptional() @IsISO8601({ strict: true }) at?: string;
}

class PeriodQuery {
  @ApiPropertyOptional(TIME('the start (inclusive; default 30 days before `to`)')) @IsOptional() @IsISO8601({ strict: true }) from?: string;
  @ApiPropertyOptional(TIME('the end (exclusive; default now)')) @IsOptional() @IsISO8601({ strict: true }) to?: string;
}

class TerminatedQuery {
  @ApiPropertyOptional(TIME('only terminations taking effect from then')) @IsOptional() @IsISO8601({ strict: true }) from?: string;
  @ApiPropertyOptional(TIME('only terminations taking effect before then')) @IsOptional() @IsISO8601({ strict: true }) to?: string;
  @ApiPropertyOptional({ description: 'ISO 8601 duration: access held after a termination for at most this long is not listed (the time a revocation takes)', default: 'PT1M' })
  @IsOptional()
  @IsString()
  @MaxLength(40)
  grace?: string;
}

class DeprovisioningQuery extends PeriodQuery {
  @ApiPropertyOptional({ enum: ['day', 'week', 'month'], default: 'week', description: 'the periods of the percentiles' }) @IsOptional() @IsIn(['day', 'week', 'month']) period?: 'day' | 'week' | 'month';
  @ApiPropertyOptional({ description: 'ISO 8601 duration: the SLO (default CUSTOS_AUDIT_DEPROVISIONING_SLO, PT1H)' }) @IsOptional() @IsString() @MaxLength(40) slo?: string;
}

const AUDITOR_ONLY = { status: 403, description: 'the token lacks custos:auditor' };
const BAD_TIME = { status: 400, description: 'a time that is not RFC 3339, in the future, at with from/to, from without to, or from not before to' };
const CSV_TOO = (type: unknown) => ({
  description: 'the report; as CSV with Accept: text/csv (formula-leading cells escaped)',
  content: { 'application/json': { schema: { $ref: getSchemaPath(type as never) } }, 'text/csv': { schema: { type: 'string' } } },
});
const DAY = 24 * 3600 * 1000;

/** The columns of each report's CSV (dotted paths into its items). */
const REPORT_COLUMNS = {
  'sod-violations': ['policyKey', 'policyName', 'mode', 'severity', 'identityId', 'left.grantId', 'left.entitlement', 'right.grantId', 'right.entitlement', 'since', 'until', 'exception.grantId', 'exception.approvedBy', 'exception.reason', 'exception.recordedAt'],
  'privileged-access': ['identityId', 'identityStatus', 'entitlement', 'risk', 'grantId', 'source', 'grantedAt', 'expiresAt', 'requestId', 'approvers', 'grantedBy', 'sodExceptionApprovedBy', 'evidence.seq'],
  'terminated-with-access': ['identityId', 'terminationSeq', 'terminatedAt', 'terminationRecordedAt', 'grantId', 'entitlement', 'source', 'heldFrom', 'heldUntil', 'heldSeconds'],
  deprovisioning: ['identityId', 'terminationSeq', 'terminatedAt', 'recordedAt', 'deprovisionedAt', 'seconds', 'grants', 'withinSlo'],
  'jit-usage': ['kind', 'identityId', 'entitlement', 'grantId', 'requestId', 'breakGlassId', 'source', 'at', 'expiresAt', 'endedAt', 'justification', 'review.state', 'review.dueAt', 'review.reviewerId', 'review.reviewedAt'],
} as const satisfies Record<(typeof REPORT_NAMES)[number], readonly string[]>;

/** A time of the query, not after `now` unless `future` allows it. */
function timeOf(field: string, value: string | undefined, now: Date, future = false): Date | undefined {
  if (value === undefined) return undefined;
  const time = new Date(value);
  if (Number.isNaN(time.getTime())) throw badRequest(`${field} is not a time`, [{ field, message: 'must be an RFC 3339 time' }]);
  if (!future && time > now) throw badRequest(`${field} ${value} is in the future: the log answers only about the past`, [{ field, message: 'must not be in the future' }]);
  return time;
}

/** The instant or period a query names; `fallback` when it names neither (none: one is required). */
function whenOf(q: WhenQuery, now: Date, fallback?: () => When): When {
  const asOf = timeOf('asOf', q.asOf, now);
  const at = timeOf('at', q.at, now);
  const from = timeOf('from', q.from, now);
  const to = timeOf('to', q.to, now, true);
  if (at && (from || to)) throw badRequest('give at, or from and to, not both', [{ field: 'at', message: 'must not be given with from or to' }]);
  if (at) return { at, ...(asOf && { asOf }) };
  if (from || to) return { ...period(from, to), ...(asOf && { asOf }) };
  if (fallback) return { ...fallback(), ...(asOf && { asOf }) };
  throw badRequest('give at, or from and to', [{ field: 'at', message: 'give at, or from and to' }]);
}

function period(from: Date | undefined, to: Date | undefined): { from: Date; to: Date } {
  if (!from || !to) throw badRequest('from and to go together', [{ field: from ? 'to' : 'from', message: 'must be given with the other' }]);
  if (from >= to) throw badRequest(`from ${from.toISOString()} is not before to ${to.toISOString()}`, [{ field: 'from', message: 'must be before to' }]);
  return { from, to };
}

function seconds(field: string, duration: string | undefined, fallback: number, now: Date): number {
  if (duration === undefined) return fallback;
  const end = isoDurationEnd(now.getTime(), duration);
  if (!('end' in end)) throw badRequest(`${field} ${duration} is not a positive ISO 8601 duration of at most ten years`, [{ field, message: 'must be an ISO 8601 duration (PT1H)' }]);
  return (end.end - now.getTime()) / 1000;
}

/**
 * The auditor's questions about the past, answered from the events: point-in-time access
 * (access-at, who-had-access, with asOf for what Custos knew then) and the compliance reports
 * (JSON, or CSV with Accept: text/csv). Reads only: nothing is written.
 */
@ApiTags('audit')
@ApiBearerAuth()
@Controller('audit')
@Roles('custos:auditor')
export class AuditHistoryController {
  private readonly pit: PointInTime;
  private readonly reports: ComplianceReports;

  constructor(
    @Inject(CONTEXT_RUNTIME) private readonly runtime: ContextRuntime,
    @Inject(AUDIT_SETTINGS) private readonly settings: AuditSettings | undefined,
  ) {
    this.pit = new PointInTime(runtime.db);
    this.reports = new ComplianceReports(runtime.db);
  }

  @Get('access-at')
  @ApiOperation({ summary: 'The grants an identity held at an instant (or at any time during from..to), each with its reason chain; asOf: as Custos knew it then' })
  @ApiOkResponse({ type: AccessAtAnswer })
  @ApiProblemResponses(BAD_TIME, 401, AUDITOR_ONLY)
  accessAt(@Query() q: AccessAtQuery): Promise<AccessAtAnswer> {
    const now = this.runtime.clock();
    return this.pit.accessAt(q.identityId, whenOf(q, now), now);
  }

  @Get('who-had-access')
  @ApiOperation({ summary: 'The identities that held an entitlement at an instant (or at any time during from..to), with their grants and why; asOf as in access-at' })
  @ApiOkResponse({ type: WhoHadAccessAnswer })
  @ApiProblemResponses(BAD_TIME, 401, AUDITOR_ONLY)
  whoHadAccess(@Query() q: WhoHadAccessQuery): Promise<WhoHadAccessAnswer> {
    const now = this.runtime.clock();
    return this.pit.whoHadAccess(q.entitlement, whenOf(q, now), now);
  }

  @Get('reports/sod-violations')
  @ApiOperation({ summary: 'Identities holding both sides of an SoD policy now, at an instant, or at any time during from..to, with the approved exceptions and their approvers' })
  @ApiExtraModels(SodViolationsReport)
  @ApiOkResponse(CSV_TOO(SodViolationsReport))
  @ApiProblemResponses(BAD_TIME, 401, AUDITOR_ONLY)
  async sodViolations(@Query() q: WhenQuery, @Headers('accept') accept: string | undefined, @Res({ passthrough: true }) reply: FastifyReply): Promise<object | string> {
    const now = this.runtime.clock();
    if (q.asOf !== undefined) throw badRequest('asOf is not taken by reports: they answer from everything recorded', [{ field: 'asOf', message: 'not taken here' }]);
    return this.answer('sod-violations', await this.reports.sodViolations(whenOf(q, now, () => ({ at: now })), now), accept, reply);
  }

  @Get('reports/privileged-access')
  @ApiOperation({ summary: 'Holders of privileged entitlements now (or at an instant), with expiry and approvers' })
  @ApiExtraModels(PrivilegedAccessReport)
  @ApiOkResponse(CSV_TOO(PrivilegedAccessReport))
  @ApiProblemResponses(BAD_TIME, 401, AUDITOR_ONLY)
  async privilegedAccess(@Query() q: InstantQuery, @Headers('accept') accept: string | undefined, @Res({ passthrough: true }) reply: FastifyReply): Promise<object | string> {
    const now = this.runtime.clock();
    const at = timeOf('at', q.at, now) ?? now;
    return this.answer('privileged-access', await this.reports.privilegedAccess({ at }, now), accept, reply);
  }

  @Get('reports/terminated-with-access')
  @ApiOperation({ summary: 'Who held anything after their termination took effect (beyond grace), and for how long; it should be empty' })
  @ApiExtraModels(TerminatedWithAccessReport)
  @ApiOkResponse(CSV_TOO(TerminatedWithAccessReport))
  @ApiProblemResponses({ status: 400, description: 'a bad time or grace, or from not before to' }, 401, AUDITOR_ONLY)
  async terminatedWithAccess(@Query() q: TerminatedQuery, @Headers('accept') accept: string | undefined, @Res({ passthrough: true }) reply: FastifyReply): Promise<object | string> {
    const now = this.runtime.clock();
    const from = timeOf('from', q.from, now, true);
    const to = timeOf('to', q.to, now, true);
    if (from && to) period(from, to);
    const grace = seconds('grace', q.grace, 60, now);
    return this.answer('terminated-with-access', await this.reports.terminatedWithAccess({ from, to }, grace, now), accept, reply);
  }

  @Get('reports/deprovisioning')
  @ApiOperation({ summary: 'For every leaver whose termination took effect in from..to: time to the last revocation, p50/p95/p99 per period, the leavers outside the SLO named' })
  @ApiExtraModels(DeprovisioningReport)
  @ApiOkResponse(CSV_TOO(DeprovisioningReport))
  @ApiProblemResponses({ status: 400, description: 'a bad time, period or SLO, or from not before to' }, 401, AUDITOR_ONLY)
  async deprovisioning(@Query() q: DeprovisioningQuery, @Headers('accept') accept: string | undefined, @Res({ passthrough: true }) reply: FastifyReply): Promise<object | string> {
    const now = this.runtime.clock();
    const range = this.periodOf(q, now);
    const slo = seconds('slo', q.slo, this.settings?.deprovisioningSloSeconds ?? 3600, now);
    return this.answer('deprovisioning', await this.reports.deprovisioning(range, q.period ?? 'week', slo, now), accept, reply);
  }

  @Get('reports/jit-usage')
  @ApiOperation({ summary: 'Just-in-time grants and break-glass uses in from..to, with the state of each break-glass review' })
  @ApiExtraModels(JitUsageReport)
  @ApiOkResponse(CSV_TOO(JitUsageReport))
  @ApiProblemResponses({ status: 400, description: 'a bad time, or from not before to' }, 401, AUDITOR_ONLY)
  async jitUsage(@Query() q: PeriodQuery, @Headers('accept') accept: string | undefined, @Res({ passthrough: true }) reply: FastifyReply): Promise<object | string> {
    const now = this.runtime.clock();
    return this.answer('jit-usage', await this.reports.jitUsage(this.periodOf(q, now), now), accept, reply);
  }

  @Get('reports/:name')
  @ApiOperation({ summary: 'An unknown report: 400 naming it and the reports there are' })
  @ApiParam({ name: 'name', description: 'not one of the reports above' })
  @ApiOkResponse({ description: 'never: every report has its own route' })
  @ApiProblemResponses({ status: 400, description: 'no such report' }, 401, AUDITOR_ONLY)
  unknownReport(@Param('name') name: string): never {
    throw badRequest(`there is no report ${JSON.stringify(name.slice(0, 100))}; the reports are ${REPORT_NAMES.join(', ')}`, [{ field: 'name', message: `must be one of ${REPORT_NAMES.join(', ')}` }]);
  }

  private periodOf(q: PeriodQuery, now: Date): { from: Date; to: Date } {
    const to = timeOf('to', q.to, now, true) ?? now;
    const from = timeOf('from', q.from, now, true) ?? new Date(to.getTime() - 30 * DAY);
    return period(from, to);
  }

  /** The report as JSON, or its items as CSV when the caller accepts text/csv. */
  private answer(name: keyof typeof REPORT_COLUMNS, report: { items: unknown[] }, accept: string | undefined, reply: FastifyReply): object | string {
    if (!accept?.includes('text/csv')) return report;
    reply.type('text/csv');
    reply.header('content-disposition', `attachment; filename="custos-${name}.csv"`);
    return csvOf(REPORT_COLUMNS[name], report.items);
  }
}
