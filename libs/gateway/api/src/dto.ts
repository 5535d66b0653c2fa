import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsISO8601, IsNotEmpty, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';

const KEY = /^[A-Za-z0-9][A-Za-z0-9:._\-/]{0,199}$/;
const KEY_MESSAGE = 'a target key is 1-200 letters, digits and : . _ - /, starting with a letter or digit';

export class SessionTokenDto {
  @ApiProperty({ example: 'pg-prod', description: 'the target to connect to (the dbname the client gives the gateway)' })
  @Matches(KEY, { message: KEY_MESSAGE })
  target!: string;
}

export class SessionListQueryDto {
  @ApiPropertyOptional({ description: 'sessions of this identity (without custos:admin, custos:auditor or custos:security: only your own)' })
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  identityId?: string;

  @ApiPropertyOptional({ example: 'pg-prod' }) @IsOptional() @Matches(KEY, { message: KEY_MESSAGE }) target?: string;
  @ApiPropertyOptional({ format: 'date-time', description: 'started at or after (RFC 3339)' }) @IsOptional() @IsISO8601({ strict: true }) from?: string;
  @ApiPropertyOptional({ format: 'date-time', description: 'started before (RFC 3339)' }) @IsOptional() @IsISO8601({ strict: true }) to?: string;
  @ApiPropertyOptional({ description: 'the `next` of the previous page' }) @IsOptional() @IsString() @MaxLength(500) after?: string;
  @ApiPropertyOptional({ default: 50, maximum: 500 }) @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(500) limit?: number;
}

export class TerminateSessionDto {
  @ApiPropertyOptional({ example: 'suspicious DROP attempts', description: 'why, shown to the user in the PostgreSQL error and kept in the recording' })
  @IsOptional()
  @IsString()
  @MaxLength(500)
  reason?: string;
}
