import { Body, Controller, Get, Header, HttpCode, Inject, NotFoundException, Post, Req, Res } from '@nestjs/common';
import { ApiExtraModels, ApiOkResponse, ApiOperation, ApiProperty, ApiPropertyOptional, ApiResponse, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { IsArray, IsOptional, IsString, MinLength } from 'class-validator';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { register } from 'prom-client';
import { isLoopback, Public } from './auth/auth.guard';
import { forbidden } from './problem';
import { DevTokenIssuer } from './auth/token-verifier';
import { ApiProblemResponses } from './openapi';
import { DevToken, HealthCheckResult, HealthReport, Liveness } from './openapi-platform-responses';

export interface HealthCheck {
  name: string;
  check(): Promise<{ ok: boolean; detail: string }>;
}

export const HEALTH_CHECKS = Symbol('HEALTH_CHECKS');
export const DEV_ISSUER = Symbol('DEV_ISSUER');

class DevTokenRequest {
  @ApiProperty({ example: 'admin-1' })
  @IsString()
  @MinLength(1)
  sub!: string;

  @ApiPropertyOptional({ example: ['custos:admin'] })
  @IsOptional()
  @IsArray()
  @IsString({ each: true })
  roles?: string[];

  @ApiPropertyOptional({ example: ['pwd', 'mfa'] })
  @IsOptional()
  @IsArray()
  @IsString({ each: true })
  amr?: string[];
}

@ApiTags('operations')
@ApiExtraModels(HealthCheckResult)
@Controller()
export class PlatformController {
  constructor(
    @Inject(HEALTH_CHECKS) private readonly checks: HealthCheck[],
    @Inject(DEV_ISSUER) private readonly devIssuer: DevTokenIssuer | null,
  ) {}

  @Public()
  @Get('health')
  @ApiOperation({ summary: 'State of the store and the bus', security: [] })
  @ApiOkResponse({ type: HealthReport, description: 'every check is ok' })
  @ApiServiceUnavailableResponse({ type: HealthReport, description: 'a check failed: the same report, status degraded (not a problem)' })
  async health(@Res({ passthrough: true }) reply: FastifyReply): Promise<HealthReport> {
    const results = await Promise.all(
      this.checks.map(async (c) => {
        try {
          return { name: c.name, ...(await c.check()) };
        } catch (error) {
          return { name: c.name, ok: false, detail: (error as Error).message };
        }
      }),
    );
    const ok = results.every((r) => r.ok);
    reply.status(ok ? 200 : 503);
    return { status: ok ? 'ok' : 'degraded', checks: Object.fromEntries(results.map(({ name, ...rest }) => [name, rest])) };
  }

  @Public()
  @Get('health/live')
  @HttpCode(200)
  @ApiOperation({ summary: 'Liveness: 200 while the process serves HTTP (no store or bus I/O; use /health for readiness)', security: [] })
  @ApiOkResponse({ type: Liveness })
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Public()
  @Get('metrics')
  @Header('Content-Type', register.contentType)
  @ApiOperation({ summary: 'Prometheus metrics', security: [] })
  @ApiResponse({ status: 200, description: 'the Prometheus text exposition format', content: { 'text/plain': { schema: { type: 'string' } } } })
  metrics(): Promise<string> {
    return register.metrics();
  }

  @Public()
  @Post('dev/token')
  @HttpCode(200)
  @ApiOperation({ summary: 'Development token issuer (only when CUSTOS_DEV_AUTH=true)', security: [] })
  @ApiOkResponse({ type: DevToken })
  @ApiProblemResponses(400, { status: 403, description: 'the client is not on this machine' }, { status: 404, description: 'the development issuer is off' }, 413, 415)
  async devToken(@Body() body: DevTokenRequest, @Req() request: FastifyRequest): Promise<{ access_token: string; token_type: 'Bearer' }> {
    if (!this.devIssuer) throw new NotFoundException('the development issuer is off (CUSTOS_DEV_AUTH is not true)');
    if (!isLoopback(request.socket.remoteAddress)) throw forbidden('the development issuer answers clients on this machine only');
    return { access_token: await this.devIssuer.issue(body), token_type: 'Bearer' };
  }
}
