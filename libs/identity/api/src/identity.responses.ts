import { ApiProperty, ApiPropertyOptional, ApiSchema } from '@nestjs/swagger';

/** An identity as the directory holds it: the latest snapshot of its lifecycle. */
@ApiSchema({ name: 'Identity' })
export class IdentityAnswer {
  @ApiProperty() identityId!: string;
  @ApiProperty({ example: 'E1001' }) employeeId!: string;
  @ApiProperty({ example: 'Ada' }) givenName!: string;
  @ApiProperty({ example: 'Lovelace' }) familyName!: string;
  @ApiProperty({ example: 'ada@example.com' }) email!: string;
  @ApiPropertyOptional() department?: string;
  @ApiPropertyOptional() title?: string;
  @ApiPropertyOptional({ description: 'the manager, as HR knows them' }) managerEmployeeId?: string;
  @ApiPropertyOptional({ description: "the manager's identity id, once the manager has one" }) managerId?: string;
  @ApiPropertyOptional() location?: string;
  @ApiPropertyOptional() costCenter?: string;
  @ApiProperty({ enum: ['employee', 'contractor'] }) employmentType!: string;
  @ApiProperty({ type: [String], description: 'group memberships (SCIM groups), sorted' }) groups!: string[];
  @ApiProperty({ enum: ['pending', 'active', 'terminated'] }) status!: string;
  @ApiPropertyOptional({ example: 'workday', description: 'the HR system whose change hired (or rehired) the identity' }) systemOfRecord?: string;
  @ApiProperty({ description: 'the version of its event stream' }) version!: number;
}

export class IdentityPage {
  @ApiProperty({ type: [IdentityAnswer] }) items!: IdentityAnswer[];
  @ApiProperty({ type: String, nullable: true, description: 'the `after` of the next page; null on the last' }) next!: string | null;
}

/** One lifecycle event of an identity. */
export class IdentityHistoryEntry {
  @ApiProperty({ description: 'its version in the identity stream' }) version!: number;
  @ApiProperty({ example: 'IdentityHired' }) type!: string;
  @ApiProperty({ format: 'date-time', description: 'when it took effect' }) effectiveAt!: string;
  @ApiProperty({ format: 'date-time', description: 'when Custos recorded it' }) recordedAt!: string;
  @ApiPropertyOptional({ type: 'object', additionalProperties: true, description: 'the fields a mover or correction changed, with their values before and after' }) changes?: Record<string, unknown>;
  @ApiPropertyOptional({ type: 'object', additionalProperties: true, example: { system: 'workday', channel: 'webhook', eventId: 'wd-1' }, description: 'the HR change it came from' })
  source?: Record<string, unknown>;
  @ApiProperty() eventId!: string;
  @ApiPropertyOptional({ example: 'hr:workday' }) actor?: string;
}

export class IdentityHistory {
  @ApiProperty() identityId!: string;
  @ApiProperty({ type: [IdentityHistoryEntry], description: 'oldest first' }) items!: IdentityHistoryEntry[];
}
