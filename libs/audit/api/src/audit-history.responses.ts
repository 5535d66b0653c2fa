import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

const CHAIN = {
  type: 'object',
  additionalProperties: true,
  description:
    'why it was held: granted (the AccessGranted entry: seq, eventId, name, time, actor), cause (the event it followed from, with hr {system, eventId, channel} for an HR change), ' +
    'request {requestId, requesterId, justification, submittedAt, approvedAt, approvals [{approverId, onBehalfOf, decidedAt, comment, evidence}], evidence}, ' +
    'breakGlass {breakGlassId, justification, usedAt, reviewDueAt, reviews, evidence}, sodException {reason, approvedBy, conflicts}. Each seq has an inclusion proof (GET /audit/proof/inclusion)',
} as const;

export class IdentityStatusAt {
  @ApiProperty({ example: 'active', description: 'the identity’s status then, as known at asOf' }) status!: string;
  @ApiProperty({ enum: ['hired', 'activated', 'terminated', 'rehired'], description: 'the change that gave it' }) change!: string;
  @ApiProperty({ format: 'date-time', description: 'when that change took effect' }) since!: string;
  @ApiProperty({ description: 'its log entry' }) seq!: number;
}

export class HeldGrant {
  @ApiProperty() identityId!: string;
  @ApiProperty() grantId!: string;
  @ApiProperty() entitlement!: string;
  @ApiProperty({ enum: ['birthright', 'request', 'break-glass', 'admin'] }) source!: string;
  @ApiPropertyOptional() role?: string;
  @ApiPropertyOptional() ruleKey?: string;
  @ApiPropertyOptional({ description: 'the request (or break-glass use) it came from' }) requestId?: string;
  @ApiPropertyOptional() reason?: string;
  @ApiProperty({ format: 'date-time' }) grantedAt!: string;
  @ApiPropertyOptional({ format: 'date-time' }) expiresAt?: string;
  @ApiPropertyOptional({ format: 'date-time', description: 'when it ended, as known at asOf' }) revokedAt?: string;
  @ApiPropertyOptional() revokeReason?: string;
  @ApiProperty({ description: 'the identity’s termination had already taken effect: access a leaver still held' }) heldAfterTermination!: boolean;
  @ApiProperty(CHAIN) why!: object;
}

export class AccessAtAnswer {
  @ApiProperty() identityId!: string;
  @ApiPropertyOptional({ format: 'date-time' }) at?: string;
  @ApiPropertyOptional({ format: 'date-time' }) from?: string;
  @ApiPropertyOptional({ format: 'date-time' }) to?: string;
  @ApiProperty({ format: 'date-time', description: 'only what Custos had recorded by then counts' }) asOf!: string;
  @ApiProperty({ type: IdentityStatusAt, nullable: true, description: 'the identity’s status at `at` (or `to`); null before its hire' }) identity!: IdentityStatusAt | null;
  @ApiProperty({ type: [HeldGrant] }) grants!: HeldGrant[];
  @ApiProperty({ description: 'the last log entry the answer reflects (a checkpoint of at least this size covers it)' }) logPosition!: number;
}

export class Holder {
  @ApiProperty() identityId!: string;
  @ApiProperty({ type: IdentityStatusAt, nullable: true }) identity!: IdentityStatusAt | null;
  @ApiProperty({ type: [HeldGrant] }) grants!: HeldGrant[];
}

export class WhoHadAccessAnswer {
  @ApiProperty() entitlement!: string;
  @ApiPropertyOptional({ format: 'date-time' }) at?: string;
  @ApiPropertyOptional({ format: 'date-time' }) from?: string;
  @ApiPropertyOptional({ format: 'date-time' }) to?: string;
  @ApiProperty({ format: 'date-time' }) asOf!: string;
  @ApiProperty({ type: [Holder] }) holders!: Holder[];
  @ApiProperty() logPosition!: number;
}

const ROW = { type: 'object', additionalProperties: true } as const;

export class SodViolationsReport {
  @ApiProperty({
    type: 'array',
    items: ROW,
    description: 'one per identity and pair of conflicting grants: {policyKey, policyName, mode, severity, identityId, left {grantId, entitlement}, right {...}, since, until?, exception? {grantId, reason, approvedBy, recordedAt, seq}}',
  })
  items!: object[];
  @ApiProperty() logPosition!: number;
}

export class PrivilegedAccessReport {
  @ApiProperty({
    type: 'array',
    items: ROW,
    description: '{identityId, identityStatus, entitlement, risk, grantId, source, grantedAt, expiresAt?, requestId?, approvers [identity ids], grantedBy, sodExceptionApprovedBy?, evidence}',
  })
  items!: object[];
  @ApiProperty() logPosition!: number;
}

export class TerminatedWithAccessReport {
  @ApiProperty({
    type: 'array',
    items: ROW,
    description: '{identityId, terminationSeq, terminatedAt, terminationRecordedAt, grantId, entitlement, source, heldFrom, heldUntil? (absent: still held), heldSeconds}; it should be empty',
  })
  items!: object[];
  @ApiProperty({ description: 'how many terminations were checked' }) leavers!: number;
  @ApiProperty() logPosition!: number;
}

export class DeprovisioningPeriod {
  @ApiProperty({ format: 'date-time', description: 'the start of the day, week or month (UTC)' }) period!: string;
  @ApiProperty() leavers!: number;
  @ApiProperty({ description: 'of which all access is gone' }) deprovisioned!: number;
  @ApiPropertyOptional({ description: 'seconds' }) p50?: number;
  @ApiPropertyOptional({ description: 'seconds' }) p95?: number;
  @ApiPropertyOptional({ description: 'seconds' }) p99?: number;
  @ApiProperty() outsideSlo!: number;
}

export class DeprovisioningReport {
  @ApiProperty({ description: 'the SLO, seconds' }) sloSeconds!: number;
  @ApiProperty({ type: [DeprovisioningPeriod] }) periods!: DeprovisioningPeriod[];
  @ApiProperty({
    type: 'array',
    items: ROW,
    description: 'every leaver whose termination took effect in the period: {identityId, terminationSeq, terminatedAt, recordedAt, deprovisionedAt? (absent: still holding), seconds, grants, withinSlo}',
  })
  items!: object[];
  @ApiProperty({ type: 'array', items: ROW, description: 'the leavers outside the SLO, named' }) outsideSlo!: object[];
  @ApiProperty() logPosition!: number;
}

export class JitUsageReport {
  @ApiProperty({
    type: 'array',
    items: ROW,
    description:
      '{kind: just-in-time|break-glass, identityId, entitlement, grantId?, requestId?, breakGlassId?, source?, at, expiresAt?, endedAt?, justification?, ' +
      'review? {state: pending|overdue|escalated|justified|not-justified, dueAt, reviewerId, reviewedAt, comment}}',
  })
  items!: object[];
  @ApiProperty() logPosition!: number;
}
