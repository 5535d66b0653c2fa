import { DynamicModule, Global, INestApplication, Module } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_INTERCEPTOR, NestFactory, Reflector } from '@nestjs/core';
import type { SqlDatabase } from '@custos/platform/event-store';
import { collectDefaultMetrics, register } from 'prom-client';
import { AuthGuard } from './auth/auth.guard';
import { DevTokenIssuer, TokenVerifier } from './auth/token-verifier';
import { DEV_ISSUER, HEALTH_CHECKS, HealthCheck, PlatformController } from './platform.controller';
import { IdempotencyInterceptor } from './idempotency.interceptor';
import { ProblemDetailsFilter } from './problem.filter';
import { createValidationPipe } from './validation';
import { requestGuards } from './request-guards';
import { FAST_ROUTES, FastRoutes } from './fast-routes';
import { serveOpenApiDocument } from './openapi';

export interface CustosAppOptions {
  title: string;
  /** The context modules this process serves (one in a service, four in the all-in-one). */
  modules: DynamicModule[];
  verifier: TokenVerifier;
  devIssuer?: DevTokenIssuer;
  healthChecks: HealthCheck[];
  /** Where answers to writes with an Idempotency-Key are kept. */
  db: SqlDatabase;
}

let metricsStarted = false;

/** Builds a Nest application with the platform's guard, validation, problem details, health, metrics and OpenAPI. */
export async function createCustosApp(options: CustosAppOptions): Promise<INestApplication> {
  const fastRoutes = new FastRoutes(options.verifier);

  /** Lends every context module the process's fast routes. */
  @Global()
  @Module({ providers: [{ provide: FAST_ROUTES, useValue: fastRoutes }], exports: [FAST_ROUTES] })
  class FastRoutesModule {}

  @Module({
    imports: [FastRoutesModule, ...options.modules],
    controllers: [PlatformController],
    providers: [
      { provide: HEALTH_CHECKS, useValue: options.healthChecks },
      { provide: DEV_ISSUER, useValue: options.devIssuer ?? null },
      { provide: APP_GUARD, useFactory: (reflector: Reflector) => new AuthGuard(reflector, options.verifier), inject: [Reflector] },
      { provide: APP_FILTER, useClass: ProblemDetailsFilter },
      { provide: APP_INTERCEPTOR, useFactory: () => new IdempotencyInterceptor(options.db) },
    ],
  })
  class CustosAppModule {}

  if (!metricsStarted) {
    metricsStarted = true;
    if (!register.getSingleMetric('process_cpu_user_seconds_total')) collectDefaultMetrics();
  }
  // The platform parses JSON bodies itself (requestGuards), so that what no route may accept is
  // answered before any guard, interceptor or pipe sees it.
  const app = await NestFactory.create(CustosAppModule, { logger: ['error', 'warn'], bodyParser: false });
  app.use(...requestGuards());
  app.useGlobalPipes(createValidationPipe());
  fastRoutes.install(app.getHttpServer());
  app.enableShutdownHooks();
  serveOpenApiDocument(app, options.title);
  return app;
}
