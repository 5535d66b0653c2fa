import { PassThrough, type Readable } from 'node:stream';
import { Body, Controller, Get, HttpCode, Inject, Param, Post, Query, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { GatewaySessions, type Caller, type SessionRecording } from '@custos/gateway/application';
import { ApiProblemResponses, badRequest, CurrentPrincipal, type Principal } from '@custos/platform/http';
import { SessionListQueryDto, SessionTokenDto, TerminateSessionDto } from './dto';
import { SessionPage, SessionRecordingDoc, SessionSummaryDoc, SessionTokenDoc } from './responses';

const NOT_FOUND = { status: 404, description: 'no session with this id that the caller may see (session-not-found)' };
const HEARTBEAT_MS = 15_000;

function callerOf(principal: Principal): Caller {
  return { identityId: principal.sub, roles: principal.roles, amr: principal.amr ?? [] };
}

function encodeCursor(item: { startedAt: string; sessionId: string }): string {
  return Buffer.from(JSON.stringify([item.startedAt, item.sessionId])).toString('base64url');
}

function decodeCursor(cursor: string): { startedAt: string; sessionId: string } {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(parsed) && parsed.length === 2 && typeof parsed[0] === 'string' && typeof parsed[1] === 'string' && !Number.isNaN(Date.parse(parsed[0]))) {
      return { startedAt: parsed[0], sessionId: parsed[1] };
    }
  } catch {
    // not one of ours
  }
  throw badRequest('after: not a cursor of this list (use the `next` of the previous page)', [{ field: 'after', message: 'not a cursor of this list' }]);
}

@ApiTags('sessions')
@ApiBearerAuth()
@Controller('sessions')
export class SessionsController {
  constructor(@Inject(GatewaySessions) private readonly sessions: GatewaySessions) {}

  @Post('token')
  @ApiOperation({
    summary:
      'A session token: the password for the PostgreSQL gateway (user = your identity id, dbname = the target), single use, valid for CUSTOS_PG_GATEWAY_TOKEN_TTL (PT5M) and never past the access that allows it. Needs an active grant of an entitlement linked to the target; a privileged one needs a recent multi-factor login',
  })
  @ApiCreatedResponse({ type: SessionTokenDoc })
  @ApiProblemResponses(
    { status: 400, description: 'a target that is no key (errors name the field)' },
    401,
    { status: 403, description: 'no active grant of an entitlement on the target (no-access-to-target), or a privileged one without a recent multi-factor login (step-up-required)' },
    { status: 404, description: 'the gateway serves no such target (target-not-served)' },
    413,
    415,
    429,
  )
  async token(@Body() body: SessionTokenDto, @CurrentPrincipal() principal: Principal): Promise<SessionTokenDoc> {
    return this.sessions.issueToken(callerOf(principal), body.target);
  }

  @Get()
  @ApiOperation({
    summary: 'Gateway sessions (and refused connections), newest first, by identity, target and start time, a page at a time. Without custos:admin, custos:auditor or custos:security: the caller\'s own',
  })
  @ApiOkResponse({ type: SessionPage })
  @ApiProblemResponses(400, 401)
  async list(@Query() q: SessionListQueryDto, @CurrentPrincipal() principal: Principal): Promise<SessionPage> {
    const limit = q.limit ?? 50;
    const items = await this.sessions.list(callerOf(principal), {
      identityId: q.identityId,
      target: q.target,
      from: q.from,
      to: q.to,
      after: q.after === undefined ? undefined : decodeCursor(q.after),
      limit,
    });
    return { items, next: items.length === limit ? encodeCursor(items[items.length - 1]) : null };
  }

  @Get(':sessionId')
  @ApiOperation({ summary: 'A session\'s recording: who, which target, the grants and requests behind it, every statement in order (parameters redacted by CUSTOS_PG_GATEWAY_REDACT), and how it ended' })
  @ApiOkResponse({ type: SessionRecordingDoc })
  @ApiProblemResponses(401, NOT_FOUND)
  async get(@Param('sessionId') sessionId: string, @CurrentPrincipal() principal: Principal): Promise<SessionRecording> {
    return this.sessions.recording(callerOf(principal), sessionId);
  }

  @Get(':sessionId/stream')
  @ApiOperation({
    summary: 'Live monitoring (Server-Sent Events, for security approvers, administrators and auditors): the recording so far, then each batch of statements as it is recorded; the stream ends with the session',
  })
  @ApiOkResponse({ description: 'text/event-stream: one event per recorded event (`event:` its type, `data:` {type, time, data})', content: { 'text/event-stream': { schema: { type: 'string' } } } })
  @ApiProblemResponses(401, { status: 403, description: 'the caller holds no custos:security and lacks custos:admin and custos:auditor (not-security-approver)' }, NOT_FOUND)
  async stream(@Param('sessionId') sessionId: string, @CurrentPrincipal() principal: Principal, @Res({ passthrough: true }) reply: FastifyReply): Promise<Readable> {
    const out = new PassThrough();
    let finished = false;
    let unsubscribe: () => void = () => undefined;
    const heartbeat = setInterval(() => out.write(': keep-alive\n\n'), HEARTBEAT_MS);
    const finish = () => {
      if (finished) return;
      finished = true;
      clearInterval(heartbeat);
      unsubscribe();
      out.end();
    };
    try {
      unsubscribe = await this.sessions.watch(
        callerOf(principal),
        sessionId,
        (event) => {
          if (!finished) out.write(`event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`);
        },
        () => setImmediate(finish),
      );
    } catch (error) {
      clearInterval(heartbeat);
      throw error;
    }
    if (finished) unsubscribe();
    reply.raw.on('close', finish);
    reply.type('text/event-stream');
    reply.header('cache-control', 'no-cache');
    return out;
  }

  @Post(':sessionId/terminate')
  @HttpCode(200)
  @ApiOperation({ summary: 'End a live session now (security approvers: holders of custos:security): the user gets a PostgreSQL error saying who ended it and why; the recording ends with reason terminated' })
  @ApiOkResponse({ type: SessionSummaryDoc })
  @ApiProblemResponses(
    400,
    401,
    { status: 403, description: 'the caller holds no custos:security (not-security-approver)' },
    NOT_FOUND,
    { status: 409, description: 'the session has ended (session-not-live) or is held by another gateway process (session-not-here)' },
    413,
    415,
    429,
  )
  async terminate(@Param('sessionId') sessionId: string, @Body() body: TerminateSessionDto, @CurrentPrincipal() principal: Principal): Promise<SessionSummaryDoc> {
    return this.sessions.terminate(callerOf(principal), sessionId, body.reason);
  }
}
