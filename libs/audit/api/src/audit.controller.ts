import { Controller, Get, Headers, Inject, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiExtraModels, ApiOkResponse, ApiOperation, ApiPropertyOptional, ApiTags, getSchemaPath } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsISO8601, IsOptional, IsString, Max, Min } from 'class-validator';
import type { FastifyReply } from 'fastify';
import { AuditLog } from '@custos/audit/application';
import { ApiProblemResponses, Roles } from '@custos/platform/http';
import { AuditEventPage, TreeVerdict } from './audit.responses';

class AuditEventsQuery {
  @ApiPropertyOptional() @IsOptional() @IsString() identityId?: string;
  @ApiPropertyOptional({ description: 'event name (IdentityHired) or full CloudEvents type' }) @IsOptional() @IsString() type?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() correlationId?: string;
  @ApiPropertyOptional({ description: 'RFC 3339, inclusive' }) @IsOptional() @IsISO8601({ strict: true }) from?: string;
  @ApiPropertyOptional({ description: 'RFC 3339, exclusive' }) @IsOptional() @IsISO8601({ strict: true }) to?: string;
  @ApiPropertyOptional({ description: 'cursor from the previous page', maximum: Number.MAX_SAFE_INTEGER }) @IsOptional() @Type(() => Number) @IsInt() @Min(0) @Max(Number.MAX_SAFE_INTEGER) after?: number;
  @ApiPropertyOptional({ default: 100, maximum: 1000 }) @IsOptional() @Type(() => Number) @IsInt() @Min(1) @Max(1000) limit?: number;
}

const AUDITOR_ONLY = { status: 403, description: 'the token lacks custos:auditor' };

const CSV_COLUMNS = ['seq', 'time', 'type', 'subject', 'actor', 'correlationid', 'causationid', 'id', 'hash', 'data'] as const;

function csvCell(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value ?? '');
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

@ApiTags('audit')
@ApiBearerAuth()
@Controller('audit')
@Roles('custos:auditor')
export class AuditController {
  constructor(@Inject(AuditLog) private readonly log: AuditLog) {}

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
      const lines = [CSV_COLUMNS.join(',')];
      for (const { seq, hash, event } of page.items) {
        const row: Record<(typeof CSV_COLUMNS)[number], unknown> = { seq, hash, ...event };
        lines.push(CSV_COLUMNS.map((c) => csvCell(row[c])).join(','));
      }
      if (page.next) reply.header('Link', `<?after=${page.next}>; rel="next"`);
      reply.type('text/csv');
      return lines.join('\r\n') + '\r\n';
    }
    return { items: page.items.map(({ seq, hash, event }) => ({ ...event, seq, hash })), next: page.next };
  }

  @Get('verify')
  @ApiOperation({ summary: 'Recompute the Merkle tree from every entry; check the stored tree and every checkpoint (signature and root)' })
  @ApiOkResponse({ type: TreeVerdict, description: 'the verdict, ok or not (a log that was tampered with is a 200 with ok false, naming the first entry that differs)' })
  @ApiProblemResponses(401, AUDITOR_ONLY)
  verify() {
    return this.log.verify();
  }
}
