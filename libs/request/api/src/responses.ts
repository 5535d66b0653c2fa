import { ApiProperty, ApiPropertyOptional, ApiSchema } from '@nestjs/swagger';
import { REQUEST_STATUSES } from './dto';

const KINDS = ['manager', 'owner', 'security', 'group'];

export class RequestTargetAnswer {
  @ApiProperty({ enum: ['entitlement', 'role'] }) kind!: string;
  @ApiProperty({ example: 'prod:db-admin' }) key!: string;
}

export class SodConflictAnswer {
  @ApiProperty() policyKey!: string;
  @ApiProperty({ enum: ['prevent', 'approve'] }) mode!: string;
  @ApiProperty({ enum: ['low', 'medium', 'high', 'critical'] }) severity!: string;
  @ApiProperty({ type: [String] }) left!: string[];
  @ApiProperty({ type: [String] }) right!: string[];
}

export class DecisionAnswerDoc {
  @ApiProperty() approverId!: string;
  @ApiPropertyOptional({ description: 'the approver whose place a delegate took' }) onBehalfOf?: string;
  @ApiProperty({ enum: ['approve', 'deny'] }) decision!: string;
  @ApiPropertyOptional() comment?: string;
  @ApiPropertyOptional() exceptionJustification?: string;
  @ApiProperty({ format: 'date-time' }) decidedAt!: string;
}

export class StepAnswerDoc {
  @ApiProperty({ enum: KINDS }) kind!: string;
  @ApiPropertyOptional({ enum: KINDS, description: 'the policy step this security step replaces (it had too few approvers)' }) routedFrom?: string;
  @ApiProperty({ type: [String], description: 'who may decide the step, frozen when the request was routed' }) approverIds!: string[];
  @ApiProperty({ description: 'approvals the step needs (N of the M approvers)' }) required!: number;
  @ApiProperty({ enum: ['approved', 'pending', 'denied', 'waiting', 'closed'] }) status!: string;
  @ApiPropertyOptional({ type: [SodConflictAnswer], description: 'SoD conflicts this step accepts: each approval carries an exceptionJustification' }) sodConflicts?: SodConflictAnswer[];
  @ApiPropertyOptional({ type: [String], description: 'managers the step escalated to after its SLA' }) escalatedTo?: string[];
  @ApiPropertyOptional({ format: 'date-time' }) requestedAt?: string;
  @ApiPropertyOptional({ format: 'date-time' }) escalationDueAt?: string;
  @ApiPropertyOptional({ format: 'date-time' }) expiryDueAt?: string;
  @ApiProperty({ type: [DecisionAnswerDoc] }) decisions!: DecisionAnswerDoc[];
}

export class RequestGrantAnswer {
  @ApiProperty() grantId!: string;
  @ApiProperty() entitlement!: string;
  @ApiPropertyOptional({ format: 'date-time' }) expiresAt?: string;
  @ApiPropertyOptional({ format: 'date-time' }) endedAt?: string;
}

export class FulfilmentRefusalAnswer {
  @ApiProperty({ example: 'sod-violation', description: 'the entitlement context\'s error code' }) code!: string;
  @ApiProperty({ description: 'its message' }) reason!: string;
}

export class ExtensionAnswerDoc {
  @ApiProperty({ description: 'the approval round: 1 for the first extension' }) round!: number;
  @ApiProperty({
    enum: ['pending', 'approved', 'fulfilled', 'denied', 'expired', 'refused', 'closed'],
    description: 'approved: awaiting its grant; fulfilled: the access runs to expiresAt; refused: the entitlement service refused it (fulfilmentRefusal); closed: the access ended before a decision',
  })
  status!: string;
  @ApiProperty() requestedBy!: string;
  @ApiProperty({ example: 'PT2H', description: 'how long from its approval the access runs' }) duration!: string;
  @ApiProperty() justification!: string;
  @ApiProperty({ format: 'date-time' }) requestedAt!: string;
  @ApiProperty({ type: [StepAnswerDoc], description: 'the request\'s steps again, their approvers resolved when the extension was asked' }) steps!: StepAnswerDoc[];
  @ApiPropertyOptional({ format: 'date-time', description: 'the end it approved' }) expiresAt?: string;
  @ApiPropertyOptional({ format: 'date-time' }) approvedAt?: string;
  @ApiPropertyOptional({ format: 'date-time' }) deniedAt?: string;
  @ApiPropertyOptional({ format: 'date-time' }) expiredAt?: string;
  @ApiPropertyOptional({ format: 'date-time' }) fulfilledAt?: string;
  @ApiPropertyOptional({ format: 'date-time' }) refusedAt?: string;
  @ApiPropertyOptional({ type: FulfilmentRefusalAnswer }) fulfilmentRefusal?: FulfilmentRefusalAnswer;
}

@ApiSchema({ name: 'AccessRequest' })
export class RequestAnswerDoc {
  @ApiProperty({ format: 'uuid' }) requestId!: string;
  @ApiProperty({ enum: REQUEST_STATUSES, description: 'refused: approved, but the entitlement service refused the grant (fulfilmentRefusal says why); revoked: given back early; ended: the grant ended (just in time, or revoked by an admin)' }) status!: string;
  @ApiProperty() requesterId!: string;
  @ApiProperty() beneficiaryId!: string;
  @ApiProperty({ type: RequestTargetAnswer }) target!: RequestTargetAnswer;
  @ApiPropertyOptional({ type: [String], description: 'a request for a role: the entitlements the role gave when asked for, which its grant gives (one grant each, with the role on it)' }) entitlements?: string[];
  @ApiProperty() justification!: string;
  @ApiPropertyOptional({ example: 'PT4H' }) duration?: string;
  @ApiProperty() privileged!: boolean;
  @ApiPropertyOptional({ example: 'PT8H' }) maxDuration?: string;
  @ApiProperty({ example: 'PT48H', description: 'how long a step waits before it escalates (twice as long: the request expires)' }) approvalSla!: string;
  @ApiProperty({ format: 'date-time' }) submittedAt!: string;
  @ApiProperty({ type: [StepAnswerDoc] }) steps!: StepAnswerDoc[];
  @ApiPropertyOptional({ description: 'the grant, once fulfilled' }) grantId?: string;
  @ApiPropertyOptional({ type: [RequestGrantAnswer] }) grants?: RequestGrantAnswer[];
  @ApiPropertyOptional({ format: 'date-time', description: 'when the access ends (absent: no end)' }) expiresAt?: string;
  @ApiPropertyOptional({ format: 'date-time' }) approvedAt?: string;
  @ApiPropertyOptional({ format: 'date-time' }) deniedAt?: string;
  @ApiPropertyOptional({ format: 'date-time' }) cancelledAt?: string;
  @ApiPropertyOptional({ format: 'date-time' }) expiredAt?: string;
  @ApiPropertyOptional({ format: 'date-time' }) fulfilledAt?: string;
  @ApiPropertyOptional({ format: 'date-time' }) endedAt?: string;
  @ApiPropertyOptional({ format: 'date-time' }) refusedAt?: string;
  @ApiPropertyOptional({ type: FulfilmentRefusalAnswer, description: 'why the entitlement service refused to grant the approved request' }) fulfilmentRefusal?: FulfilmentRefusalAnswer;
  @ApiPropertyOptional({ type: [ExtensionAnswerDoc], description: 'the extensions the beneficiary asked for, oldest first' }) extensions?: ExtensionAnswerDoc[];
}

export class RequestPage {
  @ApiProperty({ type: [RequestAnswerDoc] }) items!: RequestAnswerDoc[];
  @ApiProperty({ type: String, nullable: true, description: 'the `after` of the next page; null on the last' }) next!: string | null;
}

export class PersonAnswer {
  @ApiProperty() identityId!: string;
  @ApiPropertyOptional() name?: string;
  @ApiPropertyOptional() email?: string;
  @ApiPropertyOptional() title?: string;
  @ApiPropertyOptional() department?: string;
  @ApiPropertyOptional() managerId?: string;
  @ApiPropertyOptional({ description: 'the manager\'s name, when the request service knows them' }) managerName?: string;
}

export class ApprovalEntitlementAnswer {
  @ApiProperty({ enum: ['entitlement', 'role'], description: 'what is asked for: one entitlement, or a role as a whole' }) kind!: string;
  @ApiProperty() key!: string;
  @ApiPropertyOptional() name?: string;
  @ApiPropertyOptional({ enum: ['low', 'medium', 'high', 'critical'], description: 'for a role: the highest of its entitlements\'' }) risk?: string;
  @ApiProperty() privileged!: boolean;
  @ApiPropertyOptional({ type: [String], description: 'for a role: the entitlements it gives, which approving grants' }) entitlements?: string[];
}

export class HeldGrantAnswer {
  @ApiProperty() grantId!: string;
  @ApiProperty() entitlement!: string;
  @ApiProperty({ enum: ['birthright', 'request', 'break-glass', 'admin'] }) source!: string;
  @ApiPropertyOptional() role?: string;
  @ApiPropertyOptional() requestId?: string;
  @ApiPropertyOptional({ format: 'date-time' }) grantedAt?: string;
  @ApiPropertyOptional({ format: 'date-time', description: 'absent: no end' }) expiresAt?: string;
}

export class ApprovalExtensionAnswer {
  @ApiProperty() round!: number;
  @ApiProperty({ example: 'PT2H', description: 'how much longer, from its approval' }) duration!: string;
  @ApiProperty({ description: 'why the beneficiary needs more time' }) justification!: string;
  @ApiProperty({ format: 'date-time' }) requestedAt!: string;
  @ApiPropertyOptional({ format: 'date-time', description: 'when the access ends without the extension' }) currentExpiresAt?: string;
}

export class ApprovalItem {
  @ApiProperty({ format: 'uuid' }) requestId!: string;
  @ApiProperty({ type: PersonAnswer }) requester!: PersonAnswer;
  @ApiProperty({ type: PersonAnswer }) beneficiary!: PersonAnswer;
  @ApiProperty({ type: [HeldGrantAnswer], description: 'what the beneficiary holds now (every source), by entitlement' }) beneficiaryAccess!: HeldGrantAnswer[];
  @ApiProperty({ type: ApprovalEntitlementAnswer }) entitlement!: ApprovalEntitlementAnswer;
  @ApiProperty() justification!: string;
  @ApiPropertyOptional({ example: 'PT4H' }) duration?: string;
  @ApiPropertyOptional({ description: 'the approver whose place the caller takes through a delegation in force (absent: the caller\'s own item)' }) onBehalfOf?: string;
  @ApiProperty({ description: 'the approval round waiting: 0 for the request, n for its n-th extension' }) round!: number;
  @ApiPropertyOptional({ type: ApprovalExtensionAnswer, description: 'present when the item is an extension of access in force' }) extension?: ApprovalExtensionAnswer;
  @ApiProperty({ description: 'the index of the step waiting for the caller' }) step!: number;
  @ApiProperty({ enum: KINDS }) stepKind!: string;
  @ApiProperty({ type: [SodConflictAnswer], description: 'SoD conflicts the caller would accept by approving (an exceptionJustification is then required)' }) sodConflicts!: SodConflictAnswer[];
  @ApiProperty({ format: 'date-time', description: 'when the step opened' }) waitingSince!: string;
  @ApiProperty({ description: 'seconds the item has waited' }) waitedSeconds!: number;
  @ApiProperty({ example: 'PT48H' }) sla!: string;
  @ApiPropertyOptional({ format: 'date-time' }) escalationDueAt?: string;
  @ApiProperty({ type: RequestAnswerDoc }) request!: RequestAnswerDoc;
}

export class ApprovalInbox {
  @ApiProperty({ type: [ApprovalItem] }) items!: ApprovalItem[];
}

@ApiSchema({ name: 'Delegation' })
export class DelegationAnswerDoc {
  @ApiProperty({ format: 'uuid' }) delegationId!: string;
  @ApiProperty({ description: 'the approver who handed their approvals over' }) approverId!: string;
  @ApiProperty({ description: 'who decides in their place for the period' }) delegateId!: string;
  @ApiProperty({ format: 'date-time' }) from!: string;
  @ApiProperty({ format: 'date-time' }) until!: string;
  @ApiProperty({ enum: ['scheduled', 'active', 'ended', 'lapsed'], description: 'ended: ended early by endedBy; lapsed: past until' }) status!: string;
  @ApiProperty({ format: 'date-time' }) grantedAt!: string;
  @ApiPropertyOptional({ format: 'date-time' }) endedAt?: string;
  @ApiPropertyOptional() endedBy?: string;
}

export class DelegationList {
  @ApiProperty({ type: [DelegationAnswerDoc], description: 'the delegations the caller gave or received, newest first' }) items!: DelegationAnswerDoc[];
}

export class BreakGlassReviewAnswer {
  @ApiProperty() reviewerId!: string;
  @ApiProperty({ enum: ['justified', 'not-justified'] }) outcome!: string;
  @ApiProperty() comment!: string;
  @ApiProperty({ format: 'date-time' }) reviewedAt!: string;
}

@ApiSchema({ name: 'BreakGlassUse' })
export class BreakGlassAnswerDoc {
  @ApiProperty({ format: 'uuid' }) breakGlassId!: string;
  @ApiProperty({ enum: ['awaiting-review', 'reviewed'] }) status!: string;
  @ApiProperty({ description: 'who broke the glass and holds the access' }) identityId!: string;
  @ApiProperty() entitlement!: string;
  @ApiProperty() justification!: string;
  @ApiProperty({ example: 'PT1H' }) duration!: string;
  @ApiProperty({ format: 'date-time', description: 'when the access ends by itself' }) expiresAt!: string;
  @ApiProperty() privileged!: boolean;
  @ApiProperty({ type: [String], description: 'the security approvers (holders of custos:security, the user left out) who may review it' }) reviewerIds!: string[];
  @ApiProperty({ format: 'date-time', description: 'the review is due by then, or it escalates' }) reviewDueAt!: string;
  @ApiProperty({ format: 'date-time' }) usedAt!: string;
  @ApiPropertyOptional({ description: 'the grant, once given (absent: the entitlement service has not answered yet; it is granted when it does)' }) grantId?: string;
  @ApiPropertyOptional({ type: [String], description: 'who may review it too, since the review was late' }) escalatedTo?: string[];
  @ApiPropertyOptional({ format: 'date-time' }) escalatedAt?: string;
  @ApiPropertyOptional({ type: BreakGlassReviewAnswer }) review?: BreakGlassReviewAnswer;
}
