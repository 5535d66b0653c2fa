import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, ArrayMinSize, IsArray, IsBoolean, IsIn, IsInt, IsNotEmpty, IsObject, IsOptional, IsString, Matches, Max, MaxLength, Min, ValidateIf, ValidateNested } from 'class-validator';

const KEY = /^[A-Za-z0-9][A-Za-z0-9:._\-/]{0,199}$/;
const KEY_MESSAGE = 'a key is 1-200 letters, digits and : . _ - /, starting with a letter or digit';
const DURATION = /^P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?$/;
const DURATION_MESSAGE = 'must be an ISO 8601 duration such as PT8H or P1D';
const TARGET_ROLE = /^[a-z_][a-z0-9_]{0,62}$/;
const TARGET_ROLE_MESSAGE = 'targetRole must be a lowercase role name: a letter or _, then letters, digits or _ (at most 63)';

export class ApprovalStepDto {
  @ApiProperty({ enum: ['manager', 'owner', 'security', 'group'] }) @IsIn(['manager', 'owner', 'security', 'group']) kind!: 'manager' | 'owner' | 'security' | 'group';
  @ApiPropertyOptional({ type: [String] }) @IsOptional() @IsArray() @IsString({ each: true }) approverIds?: string[];
  @ApiProperty({ minimum: 1 }) @IsInt() @Min(1) @Max(20) required!: number;
}

export class ApprovalPolicyDto {
  @ApiProperty({ type: [ApprovalStepDto] }) @IsArray() @ArrayMinSize(1) @ValidateNested({ each: true }) @Type(() => ApprovalStepDto) steps!: ApprovalStepDto[];
}

export class EntitlementDto {
  @ApiProperty({ example: 'github:org-admin' }) @Matches(KEY, { message: KEY_MESSAGE }) key!: string;
  @ApiProperty({ example: 'github' }) @IsString() @IsNotEmpty() @MaxLength(100) application!: string;
  @ApiProperty({ example: 'GitHub organisation admin' }) @IsString() @IsNotEmpty() @MaxLength(200) name!: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(2000) description?: string;
  @ApiProperty() @IsBoolean() privileged!: boolean;
  @ApiProperty({ enum: ['low', 'medium', 'high', 'critical'] }) @IsIn(['low', 'medium', 'high', 'critical']) risk!: 'low' | 'medium' | 'high' | 'critical';
  @ApiPropertyOptional({ description: 'identity id of the owner' }) @IsOptional() @IsString() @IsNotEmpty() ownerId?: string;
  @ApiPropertyOptional({ example: 'PT8H', description: 'caps just-in-time grants' }) @IsOptional() @Matches(DURATION, { message: `maxDuration ${DURATION_MESSAGE}` }) maxDuration?: string;
  @ApiPropertyOptional({ example: 'PT48H', description: 'how long a step of a request for it waits for a decision before it escalates to the approvers\' managers (twice as long: the request expires); default PT48H' })
  @IsOptional()
  @Matches(DURATION, { message: `approvalSla ${DURATION_MESSAGE}` })
  approvalSla?: string;
  @ApiPropertyOptional() @IsOptional() @IsBoolean() breakGlass?: boolean;
  @ApiPropertyOptional({ example: 'pg-prod', description: 'a target (POST /targets): a grant gives a just-in-time account on it; needs targetRole' }) @IsOptional() @Matches(KEY, { message: KEY_MESSAGE }) target?: string;
  @ApiPropertyOptional({ example: 'readonly', description: 'the role on the target that the account joins; needs target' }) @IsOptional() @Matches(TARGET_ROLE, { message: TARGET_ROLE_MESSAGE }) targetRole?: string;
  @ApiPropertyOptional({ type: ApprovalPolicyDto }) @IsOptional() @ValidateNested() @Type(() => ApprovalPolicyDto) approvalPolicy?: ApprovalPolicyDto;
}

/** Validates the field when it is present, refusing `null` (which @IsOptional would let through). */
const IfPresent = () => ValidateIf((_object: object, value: unknown) => value !== undefined);

/**
 * A change to an entitlement: only the fields given change; `null` clears `description`,
 * `ownerId`, `maxDuration`, and restores the default `approvalPolicy`. The key and application stay.
 */
export class EntitlementChangeDto {
  @ApiPropertyOptional({ description: 'as GET returns it: must equal the key of the path' }) @IsOptional() @IsString() key?: string;
  @ApiPropertyOptional({ description: 'as GET returns it: cannot change, must equal the current one' }) @IsOptional() @IsString() application?: string;
  @ApiPropertyOptional() @IfPresent() @IsString() @IsNotEmpty() @MaxLength(200) name?: string;
  @ApiPropertyOptional({ type: String, nullable: true }) @IsOptional() @IsString() @MaxLength(2000) description?: string | null;
  @ApiPropertyOptional() @IfPresent() @IsBoolean() privileged?: boolean;
  @ApiPropertyOptional({ enum: ['low', 'medium', 'high', 'critical'] }) @IfPresent() @IsIn(['low', 'medium', 'high', 'critical']) risk?: 'low' | 'medium' | 'high' | 'critical';
  @ApiPropertyOptional({ type: String, nullable: true }) @IsOptional() @IsString() @IsNotEmpty() ownerId?: string | null;
  @ApiPropertyOptional({ type: String, nullable: true, example: 'PT8H' }) @IsOptional() @Matches(DURATION, { message: `maxDuration ${DURATION_MESSAGE}` }) maxDuration?: string | null;
  @ApiPropertyOptional({ type: String, nullable: true, example: 'PT48H' }) @IsOptional() @Matches(DURATION, { message: `approvalSla ${DURATION_MESSAGE}` }) approvalSla?: string | null;
  @ApiPropertyOptional() @IfPresent() @IsBoolean() breakGlass?: boolean;
  @ApiPropertyOptional({ type: String, nullable: true, example: 'pg-prod' }) @IsOptional() @Matches(KEY, { message: KEY_MESSAGE }) target?: string | null;
  @ApiPropertyOptional({ type: String, nullable: true, example: 'readonly' }) @IsOptional() @Matches(TARGET_ROLE, { message: TARGET_ROLE_MESSAGE }) targetRole?: string | null;
  @ApiPropertyOptional({ type: ApprovalPolicyDto, nullable: true }) @IsOptional() @ValidateNested() @Type(() => ApprovalPolicyDto) approvalPolicy?: ApprovalPolicyDto | null;
}

export class RetireQueryDto {
  @ApiPropertyOptional({ description: 'why the entitlement is retired' }) @IsOptional() @IsString() @MaxLength(2000) reason?: string;
}

export class RoleBodyDto {
  @ApiProperty({ example: 'Engineering base' }) @IsString() @IsNotEmpty() @MaxLength(200) name!: string;
  @ApiProperty({ type: [String] }) @IsArray() @ArrayMaxSize(1000) @Matches(KEY, { each: true, message: KEY_MESSAGE }) entitlements!: string[];
  @ApiPropertyOptional({ type: [String], description: 'roles this role includes' }) @IsOptional() @IsArray() @ArrayMaxSize(1000) @Matches(KEY, { each: true, message: KEY_MESSAGE }) roles?: string[];
}

/** The body of PUT /roles/{key} and its preview: what GET /roles/{key} returns is accepted back. */
export class RoleChangeDto extends RoleBodyDto {
  @ApiPropertyOptional({ description: 'as GET returns it: must equal the key of the path' }) @IsOptional() @IsString() key?: string;
}

export class RoleDto extends RoleBodyDto {
  @ApiProperty({ example: 'eng-base' }) @Matches(KEY, { message: KEY_MESSAGE }) key!: string;
}

export class BirthrightRuleBodyDto {
  @ApiProperty() @IsString() @IsNotEmpty() @MaxLength(200) name!: string;
  @ApiProperty({
    description: 'conditions on department, title, location, employmentType, costCenter, groups: a value (eq) or {in: [...]}; or exactly {all: true}',
    example: { department: 'Engineering' },
  })
  @IsObject()
  when!: Record<string, unknown>;
  @ApiProperty({ type: [String] }) @IsArray() @ArrayMinSize(1) @Matches(KEY, { each: true, message: KEY_MESSAGE }) roles!: string[];
}

/** The body of PUT /birthright-rules/{key} and its preview: what GET /birthright-rules/{key} returns is accepted back. */
export class BirthrightRuleChangeDto extends BirthrightRuleBodyDto {
  @ApiPropertyOptional({ description: 'as GET returns it: must equal the key of the path' }) @IsOptional() @IsString() key?: string;
}

export class BirthrightRuleDto extends BirthrightRuleBodyDto {
  @ApiProperty({ example: 'engineering' }) @Matches(KEY, { message: KEY_MESSAGE }) key!: string;
}

export class SodPolicyDto {
  @ApiProperty() @Matches(KEY, { message: KEY_MESSAGE }) key!: string;
  @ApiProperty() @IsString() @IsNotEmpty() @MaxLength(200) name!: string;
  @ApiProperty({ type: 'array', items: { type: 'array', items: { type: 'string' } }, minItems: 2, maxItems: 2, example: [['payments:initiate'], ['payments:approve']] })
  @IsArray()
  @ArrayMinSize(2)
  @ArrayMaxSize(2)
  @IsArray({ each: true })
  conflicting!: [string[], string[]];
  @ApiPropertyOptional({ enum: ['prevent', 'approve'] }) @IsOptional() @IsIn(['prevent', 'approve']) mode?: 'prevent' | 'approve';
  @ApiPropertyOptional({ enum: ['low', 'medium', 'high', 'critical'] }) @IsOptional() @IsIn(['low', 'medium', 'high', 'critical']) severity?: 'low' | 'medium' | 'high' | 'critical';
}

export class GrantDto {
  @ApiProperty() @Matches(KEY, { message: KEY_MESSAGE }) entitlement!: string;
  @ApiProperty() @IsString() @IsNotEmpty() @MaxLength(2000) reason!: string;
  @ApiPropertyOptional({ example: 'PT4H', description: 'makes the grant end by itself' }) @IsOptional() @Matches(DURATION, { message: `duration ${DURATION_MESSAGE}` }) duration?: string;
  @ApiPropertyOptional({ description: 'grants it despite conflicts with `approve` SoD policies, recorded as an SoD exception approved by the caller' })
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(2000)
  exceptionReason?: string;
}

export class RevokeDto {
  @ApiProperty() @Matches(KEY, { message: KEY_MESSAGE }) entitlement!: string;
  @ApiProperty() @IsString() @IsNotEmpty() @MaxLength(2000) reason!: string;
}

export class CheckQueryDto {
  @ApiProperty() @IsString() @IsNotEmpty() identityId!: string;
  @ApiProperty() @IsString() @IsNotEmpty() entitlement!: string;
}

export class PageQueryDto {
  @ApiPropertyOptional() @IsOptional() @IsString() after?: string;
  @ApiPropertyOptional({ default: 100, maximum: 1000 }) @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(1000) limit?: number;
}
