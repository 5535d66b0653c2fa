import 'reflect-metadata';
import { writeFileSync } from 'node:fs';
import { Global, Module, RequestMethod, type INestApplication } from '@nestjs/common';
import { PATH_METADATA, METHOD_METADATA } from '@nestjs/common/constants';
import { ModulesContainer, NestFactory } from '@nestjs/core';
import type { OpenAPIObject } from '@nestjs/swagger';
import { AuditModule } from '../../libs/audit/api/src';
import { EntitlementModule } from '../../libs/entitlement/api/src';
import { GatewayModule, readGatewayConfig } from '../../libs/gateway/api/src';
import { IdentityModule } from '../../libs/identity/api/src';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { buildOpenApiDocument, ConnectorTokens, ConnectorTokensController, DEV_ISSUER, HEALTH_CHECKS, OperationsController, PlatformController } from '../../libs/platform/http/src';
import type { ContextRuntime } from '../../libs/platform/runtime/src';
import { RequestModule } from '../../libs/request/api/src';
import { PrivilegedModule } from '../../libs/privileged/api/src';

/**
 * The all-in-one's controllers (apps/custos) in a Nest application built in preview mode:
 * nothing is instantiated, so no store, bus or token issuer is needed to read its routes and
 * its OpenAPI document. The runtimes only lend the modules their context's name, and what the
 * platform lends every module (bootstrap.ts) is there in name only.
 */
async function previewApp(): Promise<INestApplication> {
  const runtime = (context: string) => ({ context, store: { context } }) as unknown as ContextRuntime;
  const lent = [HEALTH_CHECKS, DEV_ISSUER, ConnectorTokens].map((token) => ({ provide: token, useValue: null }));
  @Global()
  @Module({ providers: lent, exports: lent.map((p) => p.provide) })
  class PlatformLoansModule {}
  @Module({
    imports: [
      PlatformLoansModule,
      IdentityModule.forRuntime(runtime('identity')),
      EntitlementModule.forRuntime(runtime('entitlement')),
      RequestModule.forRuntime(runtime('request')),
      AuditModule.forRuntime(runtime('audit')),
      PrivilegedModule.forRuntime(runtime('privileged')),
      GatewayModule.forRuntime(runtime('gateway'), { config: readGatewayConfig({}), host: '127.0.0.1', development: true }),
    ],
    // As createCustosApp has them without a management port.
    controllers: [OperationsController, PlatformController, ConnectorTokensController],
  })
  class CustosPreviewModule {}
  return NestFactory.create(CustosPreviewModule, new FastifyAdapter(), { preview: true, logger: false, abortOnError: false });
}

/** A route as Nest's router serves it: `GET /identities/{identityId}`. */
export type Route = `${string} /${string}`;

/** The routes of every controller, read from the metadata Nest's router reads (no global prefix or versioning here). */
function routesOf(app: INestApplication): Route[] {
  const routes: Route[] = [];
  for (const module of app.get(ModulesContainer).values()) {
    for (const { metatype } of module.controllers.values()) {
      if (!metatype) continue;
      const prefixes = [Reflect.getMetadata(PATH_METADATA, metatype) ?? ''].flat() as string[];
      const prototype = metatype.prototype as Record<string, unknown>;
      for (const name of Object.getOwnPropertyNames(prototype)) {
        const handler = prototype[name];
        if (name === 'constructor' || typeof handler !== 'function') continue;
        const method = Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod | undefined;
        const paths = Reflect.getMetadata(PATH_METADATA, handler) as string | string[] | undefined;
        if (method === undefined || paths === undefined) continue;
        for (const prefix of prefixes) {
          for (const path of [paths].flat()) {
            const joined = `/${[prefix, path].map((p) => p.replace(/^\/+|\/+$/g, '')).filter(Boolean).join('/')}`;
            routes.push(`${RequestMethod[method]} ${joined.replace(/:([A-Za-z0-9_]+)/g, '{$1}').replace(/^\//, '/')}` as Route);
          }
        }
      }
    }
  }
  return routes.sort();
}

/** The all-in-one's OpenAPI document, as GET /docs-json serves it, and the routes its controllers serve. */
export async function custosOpenApi(): Promise<{ document: OpenAPIObject; routes: Route[] }> {
  const app = await previewApp();
  try {
    return { document: buildOpenApiDocument(app, 'Custos'), routes: routesOf(app) };
  } finally {
    await app.close();
  }
}

if (require.main === module) {
  // `document.ts [file]`: writes {document, routes} as JSON to the file, or to stdout.
  custosOpenApi().then(
    (result) => {
      const text = JSON.stringify(result, null, 2);
      if (process.argv[2]) writeFileSync(process.argv[2], text);
      else process.stdout.write(text + '\n');
    },
    (error) => {
      console.error(error);
      process.exit(1);
    },
  );
}
