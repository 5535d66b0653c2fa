import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

/** An event of the log: the CloudEvent as recorded, with its place and hash in the chain. */
export class AuditEvent {
  @ApiProperty() id!: string;
  @ApiProperty({ example: 'custos.identity.IdentityHired.v1' }) type!: string;
  @ApiProperty({ example: 'IdentityHired' }) name!: string;
  @ApiProperty({ example: '/custos/identity' }) source!: string;
  @ApiProperty({ example: '1.0' }) specversion!: string;
  @ApiPropertyOptional({ example: 'identity-a39c9cbe-87ce-4c1a-aa70-be1748cca560', description: 'the stream it belongs to' }) subject?: string;
  @ApiProperty({ format: 'date-time' }) time!: string;
  @ApiPropertyOptional({ example: 'application/json' }) datacontenttype?: string;
  @ApiProperty({ type: 'object', additionalProperties: true, description: "the event's data, as its type defines it" }) data!: Record<string, unknown>;
  @ApiPropertyOptional({ example: 'hr:workday', description: 'who caused it' }) actor?: string;
  @ApiPropertyOptional() correlationid?: string;
  @ApiPropertyOptional() causationid?: string;
  @ApiPropertyOptional({ description: 'its version in its stream' }) streamversion?: number;
  @ApiPropertyOptional({ description: "its position in its context's store (a decimal string)" }) globalposition?: string;
  @ApiProperty({ description: 'its position in the audit log; the `after` of the next page' }) seq!: number;
  @ApiProperty({ description: 'SHA-256 (hex) of the previous hash and this event' }) hash!: string;
}

export class AuditEventPage {
  @ApiProperty({ type: [AuditEvent] }) items!: AuditEvent[];
  @ApiProperty({ type: String, nullable: true, example: '100', description: 'the `after` of the next page (a seq, as a decimal string); null on the last' }) next!: string | null;
}

/** The outcome of recomputing the hash chain. */
export class ChainVerdict {
  @ApiProperty({ description: 'every hash matches' }) ok!: boolean;
  @ApiProperty({ description: 'events verified (up to the break, if any)' }) events!: number;
  @ApiProperty({ description: 'the last verified hash' }) head!: string;
  @ApiPropertyOptional({ description: 'the seq of the first entry that breaks the chain (only when not ok)' }) brokenAt?: number;
  @ApiPropertyOptional({ description: 'why it breaks (only when not ok)' }) reason?: string;
}
