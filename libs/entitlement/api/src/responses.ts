import { ApiProperty, ApiPropertyOptional, ApiSchema } from '@nestjs/swagger';
import { ApprovalPolicyDto } from './dto';

const RISKS = ['low', 'medium', 'high', 'critical'];
const SOURCES = ['birthright', 'request', 'break-glass', 'admin'];

@ApiSchema({ name: 'Entitlement' })
export class EntitlementAnswer {
  @ApiProperty({ example: 'github:org-admin' }) key!: string;
  @ApiProperty({ example: 'github' }) application!: string;
  @ApiProperty({ example: 'GitHub organisation admin' }) name!: string;
  @ApiPropertyOptional() description?: string;
  @ApiProperty() privileged!: boolean;
  @ApiProperty({ enum: RISKS }) risk!: string;
  @ApiPropertyOptional({ description: 'identity id of the owner' }) ownerId?: string;
  @ApiPropertyOptional({ example: 'PT8H' }) maxDuration?: string;
  @ApiPropertyOptional({ example: 'PT48H', description: 'how long a request\'s step waits before it escalates (absent: PT48H)' }) approvalSla?: string;
  @ApiProperty() breakGlass!: boolean;
  @ApiPropertyOptional({ example: 'pg-prod', description: 'the target a grant gives a just-in-time account on' }) target?: string;
  @ApiPropertyOptional({ example: 'readonly', description: 'the role on the target the account joins' }) targetRole?: string;
  @ApiProperty({ type: ApprovalPolicyDto, description: 'the default policy when none was given' }) approvalPolicy!: ApprovalPolicyDto;
}

export class EntitlementPage {
  @ApiProperty({ type: [EntitlementAnswer] }) items!: EntitlementAnswer[];
  @ApiProperty({ type: String, nullable: true, description: 'the `after` of the next page; null on the last' }) next!: string | null;
}

export class RetiredEntitlement {
  @ApiProperty() key!: string;
  @ApiProperty({ enum: ['retired'] }) status!: 'retired';
  @ApiPropertyOptional({ format: 'date-time' }) retiredAt?: string;
}

@ApiSchema({ name: 'Role' })
export class RoleAnswer {
  @ApiProperty({ example: 'eng-base' }) key!: string;
  @ApiProperty({ example: 'Engineering base' }) name!: string;
  @ApiProperty({ type: [String] }) entitlements!: string[];
  @ApiProperty({ type: [String], description: 'roles this role includes' }) roles!: string[];
}

export class RolePage {
  @ApiProperty({ type: [RoleAnswer] }) items!: RoleAnswer[];
  @ApiProperty({ type: String, nullable: true, description: 'the `after` of the next page; null on the last' }) next!: string | null;
}

@ApiSchema({ name: 'BirthrightRule' })
export class BirthrightRuleAnswer {
  @ApiProperty({ example: 'engineering' }) key!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ type: 'object', additionalProperties: true, example: { department: 'Engineering' }, description: 'as defined: a value (eq) or {in: [...]} per attribute, or {all: true}' })
  when!: Record<string, unknown>;
  @ApiProperty({ type: [String] }) roles!: string[];
}

export class BirthrightRulePage {
  @ApiProperty({ type: [BirthrightRuleAnswer] }) items!: BirthrightRuleAnswer[];
  @ApiProperty({ type: String, nullable: true, description: 'the `after` of the next page; null on the last' }) next!: string | null;
}

@ApiSchema({ name: 'SodPolicy' })
export class SodPolicyAnswer {
  @ApiProperty() key!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ type: 'array', items: { type: 'array', items: { type: 'string' } }, minItems: 2, maxItems: 2, example: [['payments:initiate'], ['payments:approve']] })
  conflicting!: [string[], string[]];
  @ApiProperty({ enum: ['prevent', 'approve'] }) mode!: string;
  @ApiProperty({ enum: RISKS }) severity!: string;
}

export class SodPolicyPage {
  @ApiProperty({ type: [SodPolicyAnswer] }) items!: SodPolicyAnswer[];
  @ApiProperty({ type: String, nullable: true, description: 'the `after` of the next page; null on the last' }) next!: string | null;
}

/** A birthright grant a change would add or remove. */
export class BirthrightGrantChange {
  @ApiProperty() entitlement!: string;
  @ApiProperty() role!: string;
  @ApiProperty() ruleKey!: string;
}

export class AccessPreview {
  @ApiProperty() identityId!: string;
  @ApiProperty({ type: [BirthrightGrantChange] }) gains!: BirthrightGrantChange[];
  @ApiProperty({ type: [BirthrightGrantChange] }) losses!: BirthrightGrantChange[];
  @ApiProperty({ type: [String] }) entitlementsGained!: string[];
  @ApiProperty({ type: [String] }) entitlementsLost!: string[];
}

export class AccessPreviewPage {
  @ApiProperty({ type: [AccessPreview], description: 'every active identity whose birthright access would change' }) items!: AccessPreview[];
  @ApiProperty({ type: String, nullable: true, description: 'always null: a preview is one page' }) next!: null;
}

@ApiSchema({ name: 'Grant' })
export class GrantAnswer {
  @ApiProperty() grantId!: string;
  @ApiProperty() entitlement!: string;
  @ApiProperty({ enum: SOURCES }) source!: string;
  @ApiPropertyOptional({ description: 'the role it comes with (birthright)' }) role?: string;
  @ApiPropertyOptional({ description: 'the birthright rule it comes from' }) ruleKey?: string;
  @ApiPropertyOptional({ description: 'the access request it fulfils' }) requestId?: string;
  @ApiProperty({ format: 'date-time' }) grantedAt!: string;
  @ApiPropertyOptional({ format: 'date-time' }) expiresAt?: string;
  @ApiPropertyOptional() reason?: string;
}

@ApiSchema({ name: 'Access' })
export class AccessAnswer {
  @ApiProperty() identityId!: string;
  @ApiProperty({ enum: ['active', 'terminated'] }) status!: string;
  @ApiProperty({ type: [GrantAnswer] }) grants!: GrantAnswer[];
}

@ApiSchema({ name: 'CheckResult' })
export class CheckResult {
  @ApiProperty() allowed!: boolean;
  @ApiProperty({ enum: ['granted', 'not-granted', 'expired', 'terminated', 'unknown-identity'] }) reason!: string;
  @ApiProperty({ type: [String], description: 'the grants that allow it (empty when denied)' }) grantIds!: string[];
  @ApiPropertyOptional({ format: 'date-time', description: 'when the last allowing grant ends; absent when any has no end' }) expiresAt?: string;
}

export class SodConflict {
  @ApiProperty() policyKey!: string;
  @ApiProperty({ enum: ['prevent', 'approve'] }) mode!: string;
  @ApiProperty({ enum: RISKS }) severity!: string;
  @ApiProperty({ type: [String] }) left!: string[];
  @ApiProperty({ type: [String] }) right!: string[];
}

export class SodException {
  @ApiProperty({ type: [SodConflict] }) conflicts!: SodConflict[];
  @ApiProperty() reason!: string;
  @ApiProperty() approvedBy!: string;
  @ApiProperty({ format: 'date-time' }) recordedAt!: string;
}

export class GrantOutcome {
  @ApiProperty() identityId!: string;
  @ApiProperty() entitlement!: string;
  @ApiProperty({ enum: ['granted', 'unchanged'], description: 'unchanged: the identity already held it' }) status!: string;
  @ApiPropertyOptional() grantId?: string;
  @ApiPropertyOptional({ type: SodException, description: 'recorded when the grant was made despite approve-mode SoD conflicts' }) sodException?: SodException;
}

export class RevokeOutcome {
  @ApiProperty() identityId!: string;
  @ApiProperty() entitlement!: string;
  @ApiProperty({ type: [String] }) revokedGrantIds!: string[];
}

export class HeldGrant {
  @ApiProperty() grantId!: string;
  @ApiProperty() entitlement!: string;
  @ApiProperty({ enum: SOURCES }) source!: string;
  @ApiPropertyOptional() role?: string;
  @ApiPropertyOptional() ruleKey?: string;
  @ApiPropertyOptional() requestId?: string;
  @ApiPropertyOptional({ format: 'date-time' }) expiresAt?: string;
}

export class HeldSodException {
  @ApiProperty() grantId!: string;
  @ApiProperty() entitlement!: string;
  @ApiProperty() reason!: string;
  @ApiProperty() approvedBy!: string;
  @ApiProperty({ format: 'date-time' }) recordedAt!: string;
}

export class HeldSodViolation extends SodConflict {
  @ApiProperty({ type: [HeldGrant] }) grants!: HeldGrant[];
  @ApiProperty({ type: [HeldSodException] }) exceptions!: HeldSodException[];
}

export class SodViolations {
  @ApiProperty() identityId!: string;
  @ApiProperty({ type: [HeldSodViolation] }) violations!: HeldSodViolation[];
}
