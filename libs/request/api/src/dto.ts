import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsISO8601, IsNotEmpty, IsOptional, IsString, Matches, Max, MaxLength, Min, ValidateIf } from 'class-validator';

const KEY = /^[A-Za-z0-9][A-Za-z0-9:._\-/]{0,199}$/;
const KEY_MESSAGE = 'a key is 1-200 letters, digits and : . _ - /, starting with a letter or digit';
const DURATION = /^P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?$/;
const DURATION_MESSAGE = 'duration must be an ISO 8601 duration such as PT8H, PT30S or P1D';

/** The statuses a request can be listed by. */
export const REQUEST_STATUSES = ['pending', 'approved', 'denied', 'cancelled', 'expired', 'refused', 'fulfilled', 'revoked', 'ended'] as const;

export class SubmitRequestDto {
  @ApiPropertyOptional({ description: 'the identity the access is for; the caller when absent (for someone else: their manager, or custos:admin)' })
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  beneficiaryId?: string;

  @ApiPropertyOptional({ example: 'prod:db-admin', description: 'the catalog entitlement asked for (give entitlement or role)' })
  @ValidateIf((o: SubmitRequestDto) => o.role === undefined || o.entitlement !== undefined)
  @Matches(KEY, { message: KEY_MESSAGE })
  entitlement?: string;

  @ApiPropertyOptional({
    example: 'payments-oncall',
    description: 'a role asked for as a whole (give entitlement or role): its entitlements now, decided as strictly as the strictest of them (privileged if any is, the shortest maxDuration, every step kind of their policies, every owner), granted together',
  })
  @IsOptional()
  @Matches(KEY, { message: KEY_MESSAGE })
  role?: string;

  @ApiProperty({ example: 'incident INC-1234: read the orders table', description: 'why the access is needed, shown to every approver' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(2000)
  justification!: string;

  @ApiPropertyOptional({ example: 'PT4H', description: 'just in time: the grant ends by itself after this long (ISO 8601, down to seconds), at most the entitlement\'s maxDuration (PT8H for a privileged one without)' })
  @IsOptional()
  @Matches(DURATION, { message: DURATION_MESSAGE })
  duration?: string;
}

export class ApproveDto {
  @ApiPropertyOptional({ maxLength: 2000 }) @IsOptional() @IsString() @MaxLength(2000) comment?: string;
  @ApiPropertyOptional({ maxLength: 2000, description: 'required to approve a step that accepts SoD conflicts: why the exception is acceptable' })
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(2000)
  exceptionJustification?: string;
}

export class DenyDto {
  @ApiProperty({ maxLength: 2000, description: 'why, for the requester' }) @IsString() @IsNotEmpty() @MaxLength(2000) comment!: string;
}

export class ExtendRequestDto {
  @ApiProperty({ example: 'PT2H', description: 'how long the access should run from the extension\'s approval (ISO 8601, down to seconds), at most the request\'s maxDuration' })
  @Matches(DURATION, { message: DURATION_MESSAGE })
  duration!: string;

  @ApiProperty({ example: 'the migration runs late', description: 'why more time is needed, shown to every approver' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(2000)
  justification!: string;
}

export class ReasonDto {
  @ApiPropertyOptional({ maxLength: 2000 }) @IsOptional() @IsString() @MaxLength(2000) reason?: string;
}

export class RequestListQueryDto {
  @ApiPropertyOptional() @IsOptional() @IsString() @IsNotEmpty() beneficiaryId?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @IsNotEmpty() requesterId?: string;
  @ApiPropertyOptional({ enum: REQUEST_STATUSES }) @IsOptional() @IsIn(REQUEST_STATUSES) status?: string;
  @ApiPropertyOptional({ description: 'the `next` of the previous page' }) @IsOptional() @IsString() after?: string;
  @ApiPropertyOptional({ default: 50, maximum: 500 }) @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(500) limit?: number;
}

export class GrantDelegationDto {
  @ApiProperty({ description: 'the identity who may decide in the caller\'s place for the period (an active identity, not the caller)' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  delegateId!: string;

  @ApiPropertyOptional({ format: 'date-time', description: 'RFC 3339, inclusive; absent: now' })
  @IsOptional()
  @IsISO8601({ strict: true })
  from?: string;

  @ApiProperty({ format: 'date-time', description: 'RFC 3339, exclusive; after from and after now' })
  @IsISO8601({ strict: true })
  until!: string;
}

export class BreakGlassDto {
  @ApiProperty({ example: 'aws:prod-admin', description: 'a catalog entitlement marked breakGlass' })
  @Matches(KEY, { message: KEY_MESSAGE })
  entitlement!: string;

  @ApiProperty({ example: 'INC-4711: production database down, on-call DBA', description: 'why the glass is broken, for the security review' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(2000)
  justification!: string;

  @ApiPropertyOptional({ example: 'PT30M', description: 'how long the access lasts (ISO 8601), at most the entitlement\'s maxDuration (PT1H without one); absent: that maximum' })
  @IsOptional()
  @Matches(DURATION, { message: DURATION_MESSAGE })
  duration?: string;
}

export const BREAK_GLASS_OUTCOMES = ['justified', 'not-justified'] as const;

export class ReviewBreakGlassDto {
  @ApiProperty({ enum: BREAK_GLASS_OUTCOMES }) @IsIn(BREAK_GLASS_OUTCOMES) outcome!: 'justified' | 'not-justified';
  @ApiProperty({ maxLength: 2000, description: 'what the review found' }) @IsString() @IsNotEmpty() @MaxLength(2000) comment!: string;
}
