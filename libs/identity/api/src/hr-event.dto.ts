import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsArray, IsEmail, IsIn, IsISO8601, IsNotEmpty, IsObject, IsOptional, IsString, Matches, MaxLength, ValidateNested } from 'class-validator';

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
/** What an HR `system` may be: it is also the last token of the NATS subject `hr.jml.<system>`. */
export const HR_SYSTEM_PATTERN = /^[a-z0-9][a-z0-9_-]{0,62}$/i;

export class EmployeeDto {
  @ApiProperty({ example: 'E1001' }) @IsString() @IsNotEmpty() @MaxLength(200) employeeId!: string;
  @ApiProperty({ example: 'Ada' }) @IsString() @IsNotEmpty() @MaxLength(200) givenName!: string;
  @ApiProperty({ example: 'Lovelace' }) @IsString() @IsNotEmpty() @MaxLength(200) familyName!: string;
  @ApiProperty({ example: 'ada@example.com' }) @IsEmail() email!: string;
  @ApiPropertyOptional({ example: 'Engineering' }) @IsOptional() @IsString() @MaxLength(200) department?: string;
  @ApiPropertyOptional({ example: 'Engineer' }) @IsOptional() @IsString() @MaxLength(200) title?: string;
  @ApiPropertyOptional({ example: 'E1000' }) @IsOptional() @IsString() @IsNotEmpty() @MaxLength(200) managerEmployeeId?: string;
  @ApiPropertyOptional({ example: 'London' }) @IsOptional() @IsString() @MaxLength(200) location?: string;
  @ApiPropertyOptional({ example: 'CC-10' }) @IsOptional() @IsString() @MaxLength(200) costCenter?: string;
  @ApiProperty({ enum: ['employee', 'contractor'] }) @IsIn(['employee', 'contractor']) employmentType!: 'employee' | 'contractor';
}

export class HrEventDto {
  @ApiProperty({ example: 'wd-000123', description: 'unique per system; a repeat is a no-op' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  eventId!: string;

  @ApiProperty({ example: 'workday' })
  @IsString()
  @Matches(HR_SYSTEM_PATTERN, { message: 'system must be 1-63 letters, digits, - or _' })
  system!: string;

  @ApiProperty({ enum: ['joiner', 'mover', 'leaver', 'rehire'] })
  @IsIn(['joiner', 'mover', 'leaver', 'rehire'])
  type!: 'joiner' | 'mover' | 'leaver' | 'rehire';

  @ApiPropertyOptional({
    // named, since `string | null` reaches the document as Object
    type: String,
    format: 'date-time',
    nullable: true,
    example: '2026-12-01T09:00:00Z',
    description: 'RFC 3339; defaults to the time Custos receives the event (left out or null); in the future, the change is scheduled',
  })
  @IsOptional()
  @IsISO8601({ strict: true })
  @Matches(RFC3339, { message: 'effectiveAt must be an RFC 3339 date-time with a zone' })
  effectiveAt?: string | null;

  @ApiProperty({ type: EmployeeDto })
  @IsObject()
  @ValidateNested()
  @Type(() => EmployeeDto)
  employee!: EmployeeDto;

  @ApiPropertyOptional({ type: [String], description: 'group memberships, matched by birthright rules' })
  @IsOptional()
  @IsArray()
  @IsString({ each: true })
  groups?: string[];
}

export class HrEventAcceptedDto {
  @ApiProperty() identityId!: string;
  @ApiProperty({ enum: ['applied', 'scheduled', 'duplicate'] }) status!: 'applied' | 'scheduled' | 'duplicate';
}
