import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

/** An event of the log: the CloudEvent as recorded, with its place and leaf hash in the tree. */
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
  @ApiProperty({ description: 'its RFC 6962 leaf hash (base64): SHA-256 of 0x00 and the RFC 8785 canonical JSON of {"event": <the event>, "seq": <seq>}' }) hash!: string;
}

export class AuditEventPage {
  @ApiProperty({ type: [AuditEvent] }) items!: AuditEvent[];
  @ApiProperty({ type: String, nullable: true, example: '100', description: 'the `after` of the next page (a seq, as a decimal string); null on the last' }) next!: string | null;
}

/** The outcome of recomputing the Merkle tree from the entries. */
export class TreeVerdict {
  @ApiProperty({ description: 'every entry, tree node and checkpoint matches' }) ok!: boolean;
  @ApiProperty({ description: 'entries verified (up to the first that differs, if any)' }) events!: number;
  @ApiProperty({ description: 'how many leaves the stored tree holds' }) treeSize!: number;
  @ApiProperty({ description: 'stored checkpoints whose signature and root were checked' }) checkpoints!: number;
  @ApiPropertyOptional({ description: 'the root recomputed from every entry, base64 (only when ok)' }) rootHash?: string;
  @ApiPropertyOptional({ description: 'the seq of the first entry that differs (only when not ok)' }) brokenAt?: number;
  @ApiPropertyOptional({ enum: ['changed', 'deleted', 'inserted', 'tree', 'checkpoint'], description: 'what differs there (only when not ok)' }) problem?: string;
  @ApiPropertyOptional({ description: 'why (only when not ok)' }) reason?: string;
}
