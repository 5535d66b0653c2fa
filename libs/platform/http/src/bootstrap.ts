import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, NestFactory, Reflector } from '@nestjs/core';
import type { SqlDatabase } from '@custos/platform/event-store';
import { collectDefaultMetrics, register } from 'prom-client';
import { AuthGuard } from './auth/auth.guard';
import { FailedAuthLimiter, type FailedAuthLimit } from './auth/failed-auth-limiter';
import { IDENTITY_RESOLVER, type IdentityResolver } from './auth/identity-resolver';
import { DEFAULT_STEP_UP, stepUpChallenge, type StepUpSettings } from './auth/step-up';
import { DevTokenIssuer, TokenVerifier } from './auth/token-verifier';
import { DEV_ISSUER, HEALTH_CHECKS, OperationsController, PlatformController } from './platform.controller';
import type { HealthCheck } from './management';
import { IdempotencyInterceptor } from './idempotency.interceptor';
import { interceptWrites } from './idempotent-writes';
import { ProblemDetailsFilter } from './problem.filter';
import { createValidationPipe } from './validation';
import { serveOpenApiDocument } from './openapi';
import pino, { type Logger } from 'pino';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { PinoNestLogger } from './access-log';
import { ConnectorTokens } from './auth/connector-tokens';
import { ConnectorTokensController } from './connector-tokens.controller';
import { createHttpAdapter } from './http-edge';
import { DEFAULT_HTTP_EDGE_SETTINGS, type HttpEdgeSettings } from './security-headers';

export interface CustosAppOptions {
  title: string;
  /** The context modules this process serves (one in a service, four in the all-in-one). */
  modules: DynamicModule[];
  verifier: TokenVerifier;
  devIssuer?: DevTokenIssuer;
  healthChecks: HealthCheck[];
  /** /health, /health/live, /metrics and /docs are served on the management port (CUSTOS_MANAGEMENT_PORT), not by this app. */
  operationsOnManagementPort?: boolean;
  /** Where answers to writes with an Idempotency-Key are kept. */
  db: SqlDatabase;
  /** The connector tokens the verifier accepts, managed under /admin/tokens (default: kept in `db`). */
  connectorTokens?: ConnectorTokens;
  /** What counts as a step-up login, and what a step-up refusal asks for (default: `mfa` within 900 s). */
  stepUp?: StepUpSettings;
  /**
   * CUSTOS_OIDC_IDENTITY_FROM=email: a token's address is mapped to an identity. A module of this
   * process that owns the identities exports an in-process resolver (IDENTITY_RESOLVER), used
   * first; else `identityResolver` (the identity service over the bus), required with `email`.
   */
  identityFrom?: 'sub' | 'email';
  identityResolver?: IdentityResolver;
  /** Failed authentications a client address may have per window before it is answered 429 (default 20 a minute). */
  failedAuthLimit?: FailedAuthLimit;
  /** Strict-Transport-Security and the trusted proxies (default: a year, none). */
  edge?: HttpEdgeSettings;
  /** The process's log stream (requests, and Nest's own messages); warnings and errors to stdout when left out. */
  logger?: Logger;
}

let metricsStarted = false;

/** The resolver the guard maps addresses through: none unless identities come from the email claim. */
function identityResolverOf(options: CustosAppOptions, inProcess: IdentityResolver | null | undefined): IdentityResolver | undefined {
  return options.identityFrom === 'email' ? (inProcess ?? options.identityResolver) : undefined;
}

/** Builds a Nest application with the platform's guard, validation, problem details, health, metrics and OpenAPI. */
export async function createCustosApp(options: CustosAppOptions): Promise<NestFastifyApplication> {
  // Said before Nest composes anything: an error in a provider's factory ends the process there.
  if (options.identityFrom === 'email' && !options.identityResolver) {
    throw new Error('CUSTOS_OIDC_IDENTITY_FROM=email needs an identity resolver (the identity service over the bus), used where no module of the process exports one');
  }
  @Module({
    imports: options.modules,
    controllers: [...(options.operationsOnManagementPort ? [] : [OperationsController]), PlatformController, ConnectorTokensController],
    providers: [
      { provide: ConnectorTokens, useValue: options.connectorTokens ?? new ConnectorTokens(options.db) },
      { provide: HEALTH_CHECKS, useValue: options.healthChecks },
      { provide: DEV_ISSUER, useValue: options.devIssuer ?? null },
      {
        provide: APP_GUARD,
        useFactory: (reflector: Reflector, inProcess: IdentityResolver | null) =>
          new AuthGuard(reflector, options.verifier, options.stepUp, new FailedAuthLimiter(options.failedAuthLimit), identityResolverOf(options, inProcess)),
        inject: [Reflector, { token: IDENTITY_RESOLVER, optional: true }],
      },
      { provide: APP_FILTER, useValue: new ProblemDetailsFilter(stepUpChallenge(options.stepUp ?? DEFAULT_STEP_UP)) },
    ],
  })
  class CustosAppModule {}

  if (!metricsStarted) {
    metricsStarted = true;
    if (!register.getSingleMetric('process_cpu_user_seconds_total')) collectDefaultMetrics();
  }
  const logger = options.logger ?? pino({ name: 'custos', level: 'warn' });
  // The platform parses JSON bodies itself (createHttpAdapter), so that what no route may accept
  // is answered before any guard, interceptor or pipe sees it.
  const app = await NestFactory.create<NestFastifyApplication>(CustosAppModule, createHttpAdapter(logger, options.edge ?? DEFAULT_HTTP_EDGE_SETTINGS), { logger: new PinoNestLogger(logger), bodyParser: false });
  app.useGlobalPipes(createValidationPipe());
  // Every write accepts an Idempotency-Key; reads pay nothing for it.
  interceptWrites(app, new IdempotencyInterceptor(options.db));
  app.enableShutdownHooks();
  // With a management port the API reference is served there (startCustos), not on the public port.
  if (!options.operationsOnManagementPort) serveOpenApiDocument(app, options.title);
  return app;
}
