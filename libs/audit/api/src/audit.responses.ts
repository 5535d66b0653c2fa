import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsString, MaxLength } from 'class-validator';

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

/** The log against one context's event store. */
export class StoreVerdict {
  @ApiProperty({ example: 'identity' }) context!: string;
  @ApiProperty({ description: 'every stored event up to the log’s last one of this context is in the log, in order, with the same bytes' }) ok!: boolean;
  @ApiProperty({ description: 'events found alike on both sides (up to the first difference, if any)' }) events!: number;
  @ApiPropertyOptional({ description: 'stored events the log has not recorded yet (it follows the store through the bus); only when ok' }) pending?: number;
  @ApiPropertyOptional({ enum: [true], description: 'nothing answers for this context and the log holds none of its events: not deployed, nothing to compare' }) absent?: boolean;
  @ApiPropertyOptional({ enum: ['missing-from-log', 'not-in-store', 'changed', 'order', 'unreachable'], description: 'what differs (only when not ok)' }) problem?: string;
  @ApiPropertyOptional({ description: 'the log entry concerned' }) seq?: number;
  @ApiPropertyOptional({ description: 'the stored event concerned' }) eventId?: string;
  @ApiPropertyOptional({ description: 'its position in its context’s store' }) position?: string;
  @ApiPropertyOptional() reason?: string;
}

/** The outcome of recomputing the Merkle tree from the entries and checking the log against the stores. */
export class TreeVerdict {
  @ApiProperty({ description: 'every entry, tree node and checkpoint matches, and so does every context’s store' }) ok!: boolean;
  @ApiProperty({ description: 'entries verified (up to the first that differs, if any)' }) events!: number;
  @ApiProperty({ description: 'how many leaves the stored tree holds' }) treeSize!: number;
  @ApiProperty({ description: 'stored checkpoints whose signature and root were checked' }) checkpoints!: number;
  @ApiPropertyOptional({ description: 'the root recomputed from every entry, base64 (only when ok)' }) rootHash?: string;
  @ApiPropertyOptional({ description: 'the seq of the first entry that differs (only when not ok)' }) brokenAt?: number;
  @ApiPropertyOptional({ enum: ['changed', 'deleted', 'inserted', 'tree', 'checkpoint'], description: 'what differs there (only when not ok)' }) problem?: string;
  @ApiPropertyOptional({ description: 'why (only when not ok)' }) reason?: string;
  @ApiProperty({ type: [StoreVerdict], description: 'the log against each context’s event store' }) stores!: StoreVerdict[];
}

/** A signed checkpoint of the tree: a C2SP tlog-checkpoint in a C2SP signed note. */
export class AuditCheckpoint {
  @ApiProperty({ description: 'the tree size it commits to' }) treeSize!: number;
  @ApiProperty({ description: 'the RFC 6962 root hash of the first treeSize entries, base64' }) rootHash!: string;
  @ApiProperty({ example: 'custos.example.com/audit', description: "the log's origin, the note's first line" }) origin!: string;
  @ApiProperty({ example: 'custos.example.com/audit+1a2b3c4d+AXm...', description: 'the verifier key of the key that signed it (see GET /audit/keys)' }) signedBy!: string;
  @ApiProperty({ description: 'the signed note: `<origin>\\n<treeSize>\\n<rootHash>\\n`, a blank line, and `— <key name> <base64(key id || Ed25519 signature)>`; any signed-note implementation verifies it; then the witnesses’ cosignature lines (C2SP tlog-cosignature)' }) note!: string;
  @ApiProperty({ type: [String], description: 'the verifier keys of the witnesses that cosigned it' }) cosignedBy!: string[];
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
}

export class AuditCheckpointPage {
  @ApiProperty({ type: [AuditCheckpoint] }) items!: AuditCheckpoint[];
  @ApiProperty({ type: String, nullable: true, example: '1000', description: 'the `after` of the next page (a tree size); null on the last' }) next!: string | null;
}

export class AuditKey {
  @ApiProperty({ example: 'custos.example.com/audit+1a2b3c4d+AXm...', description: 'the signed-note verifier key: `<name>+<hex key id>+<base64(0x01 || Ed25519 public key)>`' }) verifierKey!: string;
  @ApiProperty({ description: 'the note key name' }) name!: string;
  @ApiProperty({ example: '1a2b3c4d', description: 'the key id (hex): the first 4 bytes of SHA-256(name || 0x0A || 0x01 || public key)' }) keyId!: string;
  @ApiProperty({ description: 'it signs the checkpoints of this tree size and larger, until the next key' }) fromSize!: number;
  @ApiProperty({ format: 'date-time' }) addedAt!: string;
}

export class AuditKeys {
  @ApiProperty({ type: [AuditKey], description: 'every key that signed or signs checkpoints, oldest first' }) keys!: AuditKey[];
  @ApiProperty({ type: [String], description: 'the witnesses whose cosignatures the log takes (CUSTOS_AUDIT_WITNESSES): C2SP tlog-cosignature verifier keys, `<name>+<hex key id>+<base64(0x04 || Ed25519 key)>`' })
  witnesses!: string[];
}

export class CosignatureBody {
  @ApiProperty({ description: 'the witness’s C2SP tlog-cosignature v1 signature line: `— <witness name> <base64(key id || u64 timestamp || Ed25519 signature)>`', maxLength: 400 })
  @IsString()
  @MaxLength(400)
  cosignature!: string;
}

export class AddedCosignature {
  @ApiProperty() treeSize!: number;
  @ApiProperty({ description: 'the witness’s verifier key' }) witness!: string;
  @ApiProperty({ description: 'when the witness cosigned (POSIX seconds)' }) timestamp!: number;
  @ApiProperty({ description: 'the signature line, now served with the checkpoint’s note' }) line!: string;
  @ApiProperty({ description: 'false: the witness had cosigned this checkpoint already, and that one is kept' }) added!: boolean;
}

export class InclusionProofAnswer {
  @ApiProperty() seq!: number;
  @ApiProperty({ description: 'seq - 1: the leaf index RFC 6962 counts from 0' }) leafIndex!: number;
  @ApiProperty() treeSize!: number;
  @ApiProperty({ description: 'the entry’s leaf hash, base64' }) leafHash!: string;
  @ApiProperty({ description: 'the root of the tree of treeSize entries, base64' }) rootHash!: string;
  @ApiProperty({ type: [String], description: 'the RFC 6962 audit path, base64 hashes, leaf to root' }) path!: string[];
}

export class ConsistencyProofAnswer {
  @ApiProperty() from!: number;
  @ApiProperty() to!: number;
  @ApiProperty({ description: 'the root of the tree of `from` entries, base64' }) fromRoot!: string;
  @ApiProperty({ description: 'the root of the tree of `to` entries, base64' }) toRoot!: string;
  @ApiProperty({ type: [String], description: 'the RFC 6962 consistency proof, base64 hashes' }) proof!: string[];
}
