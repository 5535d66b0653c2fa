import { ApiProperty } from '@nestjs/swagger';

/** The outcome of one readiness check. */
export class HealthCheckResult {
  @ApiProperty() ok!: boolean;
  @ApiProperty({ example: 'postgresql' }) detail!: string;
}

/** GET /health: every check's outcome; the same body with 200 (all ok) or 503 (any not). */
export class HealthReport {
  @ApiProperty({ enum: ['ok', 'degraded'] }) status!: 'ok' | 'degraded';
  @ApiProperty({
    description: 'each check by name (store, bus)',
    type: 'object',
    additionalProperties: { $ref: '#/components/schemas/HealthCheckResult' },
    example: { store: { ok: true, detail: 'postgresql' }, bus: { ok: true, detail: 'nats' } },
  })
  checks!: Record<string, HealthCheckResult>;
}

/** GET /health/live. */
export class Liveness {
  @ApiProperty({ enum: ['ok'] }) status!: 'ok';
}

/** POST /dev/token: a token of the development issuer. */
export class DevToken {
  @ApiProperty({ description: 'a JWT holding the requested sub, roles and amr, valid for an hour' }) access_token!: string;
  @ApiProperty({ enum: ['Bearer'] }) token_type!: 'Bearer';
}
