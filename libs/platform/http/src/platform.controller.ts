import { Body, Controller, Get, Header, HttpCode, Inject, NotFoundException, Post, Req, Res } from '@nestjs/common';
import { ApiExtraModels, ApiOkResponse, ApiOperation, ApiProperty, ApiPropertyOptional, ApiResponse, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { IsArray, IsOptional, IsString, MinLength } from 'class-validator';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { register } from 'prom-client';
import { isLoopback, Public } from './auth/auth.guard';
import { forbidden } from './problem';
import { DevTokenIssuer } from './auth/token-verifier';
import { ApiProblemResponses } from './openapi';
import { healthReport, type HealthCheck } from './management';
import { DevToken, HealthCheckResult, HealthReport, Liveness } from './openapi-platform-responses';

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

/**
 * /health, /health/live and /metrics on the public port. With CUSTOS_MANAGEMENT_PORT they are
 * served there instead (startManagementServer) and this controller is left out of the app.
 */
@ApiTags('operations')
@ApiExtraModels(HealthCheckResult)
@Controller()
export class OperationsController {
  constructor(@Inject(HEALTH_CHECKS) private readonly checks: HealthCheck[]) {}

  @Public()
  @Get('health')
  @ApiOperation({ summary: 'State of the store and the bus', security: [] })
  @ApiOkResponse({ type: HealthReport, description: 'every check is ok' })
  @ApiServiceUnavailableResponse({ type: HealthReport, description: 'a check failed: the same report, status degraded (not a problem)' })
  async health(@Res({ passthrough: true }) reply: FastifyReply): Promise<HealthReport> {
    const { httpStatus, body } = await healthReport(this.checks);
    reply.status(httpStatus);
    return body;
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
}

/** The development issuer's POST /dev/token (404 unless CUSTOS_DEV_AUTH=true). */
@ApiTags('operations')
@Controller()
export class PlatformController {
  constructor(@Inject(DEV_ISSUER) private readonly devIssuer: DevTokenIssuer | null) {}

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
