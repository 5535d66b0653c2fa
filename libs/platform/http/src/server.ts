import type { DynamicModule } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { connectBusTransport } from '@custos/platform/messaging';
import { ContextDescriptor, ContextRuntime, CustosConfig, hardenProcess, openTopology, readConfig, Topology } from '@custos/platform/runtime';
import { readAuthSettings, type AuthSettings } from './auth/auth-settings';
import { ConnectorTokens, withConnectorTokens } from './auth/connector-tokens';
import { BusIdentityResolver, CachingIdentityResolver } from './auth/identity-resolver';
import { CachingTokenVerifier, DevTokenIssuer, OidcTokenVerifier, TokenVerifier } from './auth/token-verifier';
import { createCustosApp } from './bootstrap';
import { buildOpenApiDocument } from './openapi';
import { startManagementServer, type HealthCheck, type ManagementServer } from './management';
import { readHttpEdgeSettings } from './security-headers';

export interface RunningCustos {
  app: NestFastifyApplication;
  topology: Topology;
  url: string;
  /** The management port's address (CUSTOS_MANAGEMENT_PORT): /health, /health/live, /metrics. */
  managementUrl?: string;
  devIssuer?: DevTokenIssuer;
  stop(): Promise<void>;
}

/**
 * Picks the token verifier: the configured OIDC issuer, else the development issuer when allowed.
 * In production an issuer needs an audience: without one, a token the issuer signed for any other
 * application of the organisation would be taken as a token for Custos.
 */
export async function createVerifier(config: CustosConfig, auth: AuthSettings = readAuthSettings(), env: NodeJS.ProcessEnv = process.env): Promise<{ verifier: TokenVerifier; devIssuer?: DevTokenIssuer }> {
  if (config.oidcIssuer && !config.oidcAudience && env.NODE_ENV === 'production') {
    throw new Error('CUSTOS_OIDC_AUDIENCE is required with CUSTOS_OIDC_ISSUER in production: without it Custos would accept a token the issuer signed for any application');
  }
  const oidc = config.oidcIssuer
    ? new OidcTokenVerifier(config.oidcIssuer, { audience: config.oidcAudience, claims: auth.claims, clockToleranceSec: auth.clockToleranceSec, jwksCooldownMs: auth.jwksCooldownSec * 1000 })
    : undefined;
  if (config.devAuth) {
    const devIssuer = await DevTokenIssuer.create({ keyFile: auth.devKeyFile });
    if (!oidc) return { verifier: devIssuer, devIssuer };
    // Both issuers are accepted: real users through OIDC, scripted demos through the dev issuer.
    return {
      devIssuer,
      verifier: { verify: (token) => oidc.verify(token).catch(() => devIssuer.verify(token)) },
    };
  }
  if (!oidc) throw new Error('no token issuer: set CUSTOS_OIDC_ISSUER (production) or CUSTOS_DEV_AUTH=true (development only)');
  return { verifier: oidc };
}

/** Starts one process serving the given contexts: the topology, the HTTP app and its workers. */
export async function startCustos(options: {
  title: string;
  processName: string;
  config: CustosConfig;
  contexts: ContextDescriptor[];
  modules: (runtimes: ContextRuntime[]) => DynamicModule[];
}): Promise<RunningCustos> {
  const { config } = options;
  const topology = await openTopology(config, options.contexts, options.processName);
  try {
    const auth = readAuthSettings();
    const { verifier, devIssuer } = await createVerifier(config, auth);
    if (devIssuer) topology.logger.warn('CUSTOS_DEV_AUTH=true: POST /dev/token issues tokens to anyone. Never enable it in production.');
    if (config.oidcIssuer && !config.oidcAudience) topology.logger.warn('CUSTOS_OIDC_AUDIENCE is not set: tokens of the issuer for any audience are accepted (refused at start with NODE_ENV=production).');
    const healthChecks: HealthCheck[] = [
      {
        name: 'store',
        check: async () => {
          await topology.db.query('SELECT 1');
          return { ok: true, detail: topology.db.dialect === 'pg' ? 'postgresql' : 'embedded (pglite)' };
        },
      },
      { name: 'bus', check: () => topology.bus.health() },
    ];
    const connectorTokens = new ConnectorTokens(topology.db);
    await connectorTokens.migrate();
    const app = await createCustosApp({
      title: options.title,
      modules: options.modules(topology.runtimes),
      // Clients send the same bearer token request after request: its signature is checked once a
      // minute. Connector tokens (cst_...) are looked up in the database instead.
      verifier: withConnectorTokens(connectorTokens, new CachingTokenVerifier(verifier)),
      connectorTokens,
      devIssuer,
      stepUp: auth.stepUp,
      // CUSTOS_OIDC_IDENTITY_FROM=email: the identity service answers which identity an address is
      // (in this process when it serves the identity context, which then takes precedence),
      // remembered for CUSTOS_OIDC_EMAIL_CACHE_TTL and asked once for concurrent logins.
      identityFrom: auth.identityFrom,
      identityResolver:
        auth.identityFrom === 'email'
          ? new CachingIdentityResolver(new BusIdentityResolver(topology.bus), { positiveMs: auth.emailCacheTtlSec * 1000, negativeMs: Math.min(auth.emailCacheTtlSec, 5) * 1000 })
          : undefined,
      failedAuthLimit: auth.failedAuthLimit,
      edge: readHttpEdgeSettings(),
      db: topology.db,
      logger: topology.logger,
      healthChecks,
      operationsOnManagementPort: config.managementPort !== undefined,
    });
    // The message doors (RPC, event consumers, inbound doors) are the modules' @MessagePattern and
    // @EventPattern handlers, served over the topology's bus.
    connectBusTransport(app, topology.bus, topology.logger);
    await app.listen(config.port, config.host);
    // Once the HTTP server is up and every module has started its views; they stop when the app
    // closes, after the HTTP server and before the modules' shutdown hooks and the store.
    await app.startAllMicroservices().catch(async (error: unknown) => {
      await app.close();
      throw error;
    });
    let management: ManagementServer | undefined;
    if (config.managementPort !== undefined) {
      const docs = buildOpenApiDocument(app, options.title);
      management = await startManagementServer({ port: config.managementPort, host: config.host, checks: healthChecks, docs }).catch(async (error: unknown) => {
        await app.close();
        throw error;
      });
    }
    const address = app.getHttpServer().address() as { port: number };
    const url = `http://127.0.0.1:${address.port}`;
    topology.logger.info({ url, managementUrl: management?.url, contexts: options.contexts }, 'custos listening');
    let stopped = false;
    return {
      app,
      topology,
      url,
      managementUrl: management?.url,
      devIssuer,
      async stop() {
        if (stopped) return;
        stopped = true;
        await management?.close();
        await app.close();
        await topology.close();
      },
    };
  } catch (error) {
    await topology.close();
    throw error;
  }
}

/**
 * runService is the whole main of one context's own service (apps/<context>-service): the process
 * hardened, PostgreSQL and NATS required, the context served, stopped cleanly on SIGINT and
 * SIGTERM, and exit code 1 with the error when it cannot start.
 */
export function runService(options: { name: string; context: ContextDescriptor; module: (runtime: ContextRuntime, config: CustosConfig) => DynamicModule }): void {
  const start = async (): Promise<void> => {
    hardenProcess();
    const config = readConfig();
    if (!config.databaseUrl || !config.natsUrl) throw new Error(`the ${options.name} service needs DATABASE_URL and NATS_URL (use \`npm start\` for the embedded all-in-one)`);
    const service = await startCustos({
      title: `Custos ${options.name} service`,
      processName: `${options.name}-service`,
      config,
      contexts: [options.context],
      modules: ([runtime]) => [options.module(runtime, config)],
    });
    const shutdown = () => void service.stop().then(() => process.exit(0), () => process.exit(1));
    process.once('SIGINT', shutdown);
    process.once('SIGTERM', shutdown);
  };
  start().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
