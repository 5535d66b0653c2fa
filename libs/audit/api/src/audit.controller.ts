import { Readable } from 'node:stream';
import { Body, Controller, Get, Headers, HttpCode, Inject, Param, Post, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiExtraModels, ApiOkResponse, ApiOperation, ApiParam, ApiProperty, ApiPropertyOptional, ApiTags, getSchemaPath } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsISO8601, IsOptional, IsString, Max, Min } from 'class-validator';
import type { FastifyReply } from 'fastify';
import { AuditLog, AuditRangeError, CosignatureRefused, exportLines, NoCheckpointError, planExport, verifyAll } from '@custos/audit/application';
import { CONTEXT_RUNTIME, type ContextRuntime, storeEventsSubject, type StoreEventsPage } from '@custos/platform/runtime';
import { ApiProblemResponses, badRequest, ProblemException, Roles, problem } from '@custos/platform/http';
import { csvOf } from './csv';
import { AddedCosignature, AuditCheckpoint, CosignatureBody, AuditCheckpointPage, AuditEventPage, AuditKeys, ConsistencyProofAnswer, InclusionProofAnswer, TreeVerdict } from './audit.responses';

class AuditEventsQuery {
  @ApiPropertyOptional() @IsOptional() @IsString() identityId?: string;
  @ApiPropertyOptional({ description: 'event name (IdentityHired) or full CloudEvents type' }) @IsOptional() @IsString() type?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() correlationId?: string;
  @ApiPropertyOptional({ description: 'RFC 3339, inclusive' }) @IsOptional() @IsISO8601({ strict: true }) from?: string;
  @ApiPropertyOptional({ description: 'RFC 3339, exclusive' }) @IsOptional() @IsISO8601({ strict: true }) to?: string;
  @ApiPropertyOptional({ description: 'cursor from the previous page', maximum: Number.MAX_SAFE_INTEGER }) @IsOptional() @Type(() => Number) @IsInt() @Min(0) @Max(Number.MAX_SAFE_INTEGER) after?: number;
  @ApiPropertyOptional({ default: 100, maximum: 1000 }) @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(1000) limit?: number;
}

const MAX = Number.MAX_SAFE_INTEGER;

/** The contexts whose events the audit log records (AuditEventsController's consumers), and whose stores verify checks it against. */
export const AUDITED_CONTEXTS = ['identity', 'entitlement', 'request', 'privileged', 'gateway'] as const;

class CheckpointsQuery {
  @ApiPropertyOptional({ description: 'only the checkpoint of this tree size', minimum: 1, maximum: MAX }) @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(MAX) size?: number;
  @ApiPropertyOptional({ description: 'cursor: the tree size of the last checkpoint of the previous page', maximum: MAX }) @IsOptional() @Type(() => Number) @IsInt() @Min(0) @Max(MAX) after?: number;
  @ApiPropertyOptional({ default: 100, maximum: 1000 }) @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(1000) limit?: number;
}

class InclusionQuery {
  @ApiProperty({ description: 'the entry (its seq, from 1)', minimum: 1, maximum: MAX }) @Type(() => Number) @IsInt() @Min(1) @Max(MAX) seq!: number;
  @ApiProperty({ description: 'the tree size (a checkpoint’s), at least seq', minimum: 1, maximum: MAX }) @Type(() => Number) @IsInt() @Min(1) @Max(MAX) treeSize!: number;
}

class ConsistencyQuery {
  @ApiProperty({ description: 'the older tree size', minimum: 1, maximum: MAX }) @Type(() => Number) @IsInt() @Min(1) @Max(MAX) from!: number;
  @ApiProperty({ description: 'the newer tree size, at least from', minimum: 1, maximum: MAX }) @Type(() => Number) @IsInt() @Min(1) @Max(MAX) to!: number;
}

class ExportQuery {
  @ApiPropertyOptional({ description: 'the first entry (default 1)', minimum: 1, maximum: MAX }) @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(MAX) from?: number;
  @ApiPropertyOptional({ description: 'the last entry (default: the latest checkpoint’s size; at most that)', minimum: 1, maximum: MAX }) @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(MAX) to?: number;
}

/** The log's own refusals as problems: a range it cannot answer is the caller's (400), no checkpoint yet a 404. */
async function answer<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof AuditRangeError) throw new ProblemException(problem(400, 'out-of-range', error.message));
    if (error instanceof NoCheckpointError) throw new ProblemException(problem(404, 'no-checkpoint', error.message));
    if (error instanceof CosignatureRefused) throw new ProblemException(problem(422, `cosignature-${error.code}`, error.message));
    throw error;
  }
}

const AUDITOR_ONLY = { status: 403, description: 'the token lacks custos:auditor' };
const NO_CHECKPOINT = { status: 404, description: 'no checkpoint has been made yet' };

const CSV_COLUMNS = ['seq', 'time', 'type', 'subject', 'actor', 'correlationid', 'causationid', 'id', 'hash', 'data'] as const;

@ApiTags('audit')
@ApiBearerAuth()
@Controller('audit')
@Roles('custos:auditor')
export class AuditController {
  constructor(
    @Inject(AuditLog) private readonly log: AuditLog,
    @Inject(CONTEXT_RUNTIME) private readonly runtime: ContextRuntime,
  ) {}

  @Get('events')
  @ApiOperation({ summary: 'Audit events, oldest first; Accept: text/csv for CSV' })
  @ApiExtraModels(AuditEventPage)
  @ApiOkResponse({
    description: 'a page of events; as CSV (columns seq, time, type, subject, actor, correlationid, causationid, id, hash, data) with a Link header to the next page',
    content: {
      'application/json': { schema: { $ref: getSchemaPath(AuditEventPage) } },
      'text/csv': { schema: { type: 'string' } },
    },
    headers: { Link: { description: 'CSV only: `<?after=N>; rel="next"` while there are more', schema: { type: 'string' } } },
  })
  @ApiProblemResponses(400, 401, AUDITOR_ONLY)
  async events(@Query() q: AuditEventsQuery, @Headers('accept') accept: string | undefined, @Res({ passthrough: true }) reply: FastifyReply): Promise<object | string> {
    const page = await this.log.query({
      identityId: q.identityId,
      type: q.type,
      correlationId: q.correlationId,
      from: q.from ? new Date(q.from) : undefined,
      to: q.to ? new Date(q.to) : undefined,
      after: q.after,
      limit: q.limit ?? 100,
    });
    if (accept?.includes('text/csv')) {
      const rows = page.items.map(({ seq, hash, event }): Record<(typeof CSV_COLUMNS)[number], unknown> => ({ ...event, seq, hash }));
      if (page.next) reply.header('Link', `<?after=${page.next}>; rel="next"`);
      reply.type('text/csv');
      // Text as it is, other values as JSON; a correlation id `=1+2` reaches a spreadsheet as text (csvOf).
      return csvOf(CSV_COLUMNS, rows);
    }
    return { items: page.items.map(({ seq, hash, event }) => ({ ...event, seq, hash })), next: page.next };
  }

  @Get('verify')
  @ApiOperation({
    summary:
      'Recompute the Merkle tree from every entry; check the stored tree and every checkpoint (signature and root); ' +
      'cross-check the log against each context’s event store (rpc.<context>.store-events)',
  })
  @ApiOkResponse({
    type: TreeVerdict,
    description: 'the verdict, ok or not (a log or store that was tampered with is a 200 with ok false, naming the first entry that differs, on either side)',
  })
  @ApiProblemResponses(401, AUDITOR_ONLY)
  verify() {
    const bus = this.runtime.bus;
    return verifyAll(this.log, AUDITED_CONTEXTS, (context, request) => bus.request<StoreEventsPage>(storeEventsSubject(context), request, { timeoutMs: 15_000 }));
  }

  @Get('keys')
  @ApiOperation({ summary: 'The verifier keys of the checkpoints, old and current (signed-note format)' })
  @ApiOkResponse({ type: AuditKeys })
  @ApiProblemResponses(401, AUDITOR_ONLY)
  async keys(): Promise<AuditKeys> {
    return { keys: await this.log.tree.keys(), witnesses: (this.log.tree.settings.witnesses ?? []).map((w) => w.verifierKey) };
  }

  @Get('checkpoint')
  @ApiOperation({ summary: 'The latest signed checkpoint; Accept: text/plain for the signed note alone' })
  @ApiExtraModels(AuditCheckpoint)
  @ApiOkResponse({
    description: 'the checkpoint; as text/plain, its C2SP signed note as any signed-note verifier reads it',
    content: { 'application/json': { schema: { $ref: getSchemaPath(AuditCheckpoint) } }, 'text/plain': { schema: { type: 'string' } } },
  })
  @ApiProblemResponses(401, AUDITOR_ONLY, NO_CHECKPOINT)
  async checkpoint(@Headers('accept') accept: string | undefined, @Res({ passthrough: true }) reply: FastifyReply): Promise<AuditCheckpoint | string> {
    const latest = await answer(() => this.log.tree.latestCheckpoint());
    if (accept?.includes('text/plain') && !accept.includes('application/json')) {
      reply.type('text/plain; charset=utf-8');
      return latest.note;
    }
    return latest;
  }

  @Get('checkpoints')
  @ApiOperation({ summary: 'The stored checkpoints, smallest tree first; `size` for the one of that size' })
  @ApiOkResponse({ type: AuditCheckpointPage })
  @ApiProblemResponses(400, 401, AUDITOR_ONLY)
  checkpoints(@Query() q: CheckpointsQuery): Promise<AuditCheckpointPage> {
    return this.log.tree.checkpoints({ size: q.size, after: q.after, limit: q.limit ?? 100 });
  }

  @Post('checkpoints/:treeSize/cosignatures')
  @HttpCode(200)
  @ApiOperation({ summary: 'A witness cosigns a checkpoint (C2SP tlog-cosignature v1, Ed25519): its signature line is kept and served with the checkpoint' })
  @ApiParam({ name: 'treeSize', description: 'the tree size of the checkpoint cosigned' })
  @ApiOkResponse({ type: AddedCosignature })
  @ApiProblemResponses(
    { status: 400, description: 'not a tree size, or no cosignature line' },
    401,
    AUDITOR_ONLY,
    { status: 404, description: 'no checkpoint of that tree size' },
    { status: 422, description: 'malformed, by no configured witness (CUSTOS_AUDIT_WITNESSES), not verifying on this checkpoint, or dated in the future' },
  )
  cosign(@Param('treeSize') treeSize: string, @Body() body: CosignatureBody): Promise<AddedCosignature> {
    if (!/^[1-9][0-9]{0,15}$/.test(treeSize) || !Number.isSafeInteger(Number(treeSize))) throw badRequest(`${treeSize.slice(0, 40)} is not a tree size`, [{ field: 'treeSize', message: 'must be a whole number above 0' }]);
    return answer(() => this.log.tree.addCosignature(Number(treeSize), body.cosignature, this.runtime.clock()));
  }

  @Get('proof/inclusion')
  @ApiOperation({ summary: 'The RFC 6962 audit path of one entry in the tree of treeSize entries' })
  @ApiOkResponse({ type: InclusionProofAnswer })
  @ApiProblemResponses({ status: 400, description: 'not numbers, seq beyond treeSize, or treeSize beyond the tree' }, 401, AUDITOR_ONLY)
  inclusion(@Query() q: InclusionQuery): Promise<InclusionProofAnswer> {
    return answer(() => this.log.tree.inclusion(q.seq, q.treeSize));
  }

  @Get('proof/consistency')
  @ApiOperation({ summary: 'The RFC 6962 consistency proof between two tree sizes' })
  @ApiOkResponse({ type: ConsistencyProofAnswer })
  @ApiProblemResponses({ status: 400, description: 'not numbers, from after to, or to beyond the tree' }, 401, AUDITOR_ONLY)
  consistency(@Query() q: ConsistencyQuery): Promise<ConsistencyProofAnswer> {
    return answer(() => this.log.tree.consistency(q.from, q.to));
  }

  @Get('export')
  @ApiOperation({ summary: 'Entries from..to as NDJSON with the checkpoints covering them and their proofs, for `custos audit verify`' })
  @ApiOkResponse({
    description:
      'NDJSON, each line RFC 8785 canonical JSON: a header {format, from, kind: export, to}; the checkpoints {kind: checkpoint, note}; ' +
      'a consistency proof {from, kind: consistency, proof, to} between each two; then each entry {event, kind: entry, seq} followed by ' +
      'its audit path {kind: inclusion, proof, seq, treeSize} in the first checkpoint covering it',
    content: { 'application/x-ndjson': { schema: { type: 'string' } } },
  })
  @ApiProblemResponses({ status: 400, description: 'not numbers, from after to, or to beyond the latest checkpoint' }, 401, AUDITOR_ONLY, NO_CHECKPOINT)
  async export(@Query() q: ExportQuery, @Res({ passthrough: true }) reply: FastifyReply): Promise<Readable> {
    const plan = await answer(() => planExport(this.log, q.from, q.to));
    reply.type('application/x-ndjson');
    reply.header('content-disposition', `attachment; filename="custos-audit-${plan.from}-${plan.to}.ndjson"`);
    return Readable.from(exportLines(this.log, plan));
  }
}
