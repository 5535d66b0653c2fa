import { DynamicModule, Module } from '@nestjs/common';
import {
  ConfiguredUpstreams,
  EntitlementAccess,
  GatewaySessions,
  GatewayWorkers,
  GrantWatch,
  LiveSessions,
  PgGateway,
  SessionRecorder,
  SessionsView,
  SessionTokens,
  TargetLinks,
  gatewayTlsContext,
  type GatewayConfig,
  type UpstreamResolver,
} from '@custos/gateway/application';
import { CONTEXT_RUNTIME, ContextLifecycle, type ContextRuntime } from '@custos/platform/runtime';
import { SessionsController } from './sessions.controller';
import './domain-error-statuses';

export interface GatewayModuleOptions {
  config: GatewayConfig;
  /** The address the gateway binds when the config names none (the HTTP server's). */
  host: string;
  /** Development mode: a generated TLS certificate is allowed. */
  development: boolean;
  /** Where upstream credentials come from; default: the targets given by URL in the config. */
  upstreams?: UpstreamResolver;
}

const MESSAGE_LIMIT = 16 * 1024 * 1024;

/**
 * The PostgreSQL gateway: session tokens, the recordings (/sessions), live monitoring and
 * terminate, and the wire-protocol listener on CUSTOS_PG_GATEWAY_PORT (when set).
 */
@Module({})
export class GatewayModule {
  static forRuntime(runtime: ContextRuntime, options: GatewayModuleOptions): DynamicModule {
    const schema = runtime.store.context;
    const { config } = options;
    return {
      module: GatewayModule,
      controllers: [SessionsController],
      providers: [
        { provide: CONTEXT_RUNTIME, useValue: runtime },
        { provide: TargetLinks, useFactory: () => new TargetLinks(runtime.db, schema) },
        { provide: SessionTokens, useFactory: () => new SessionTokens(runtime.db, schema, runtime.clock) },
        { provide: SessionsView, useFactory: () => new SessionsView(runtime.db, runtime.store, schema) },
        { provide: LiveSessions, useFactory: () => new LiveSessions() },
        { provide: 'UPSTREAMS', useFactory: () => options.upstreams ?? ConfiguredUpstreams.fromEnv(config.targets) },
        { provide: EntitlementAccess, useFactory: (links: TargetLinks) => new EntitlementAccess(runtime.bus, links), inject: [TargetLinks] },
        {
          provide: SessionRecorder,
          useFactory: () => new SessionRecorder(runtime.store, { maxPendingPerSession: 10_000, retryMs: 500, lingerMs: config.recordLingerMs, onError: (err) => runtime.logger.error({ err }, 'gateway recording failed; retrying') }),
        },
        { provide: GrantWatch, useFactory: (live: LiveSessions, access: EntitlementAccess) => new GrantWatch(live, access), inject: [LiveSessions, EntitlementAccess] },
        {
          provide: PgGateway,
          useFactory: async (tokens: SessionTokens, access: EntitlementAccess, upstreams: UpstreamResolver, recorder: SessionRecorder, live: LiveSessions) =>
            new PgGateway({
              tokens,
              access,
              upstreams,
              recorder,
              live,
              clock: runtime.clock,
              logger: runtime.logger,
              settings: {
                gatewayId: config.gatewayId,
                tls: config.port === undefined ? undefined : await gatewayTlsContext(config.tls, options.development),
                tlsRequired: config.tlsRequired,
                maxMessageBytes: MESSAGE_LIMIT,
                upstreamTimeoutMs: 10_000,
                authTimeoutMs: 30_000,
                redact: config.redact,
              },
            }),
          inject: [SessionTokens, EntitlementAccess, 'UPSTREAMS', SessionRecorder, LiveSessions],
        },
        {
          provide: GatewaySessions,
          useFactory: (tokens: SessionTokens, access: EntitlementAccess, upstreams: UpstreamResolver, view: SessionsView, live: LiveSessions, recorder: SessionRecorder) =>
            new GatewaySessions(runtime, tokens, access, upstreams, view, live, recorder, config.tokenTtlMs),
          inject: [SessionTokens, EntitlementAccess, 'UPSTREAMS', SessionsView, LiveSessions, SessionRecorder],
        },
        {
          provide: GatewayWorkers,
          useFactory: (view: SessionsView, links: TargetLinks, watch: GrantWatch, recorder: SessionRecorder, gateway: PgGateway) =>
            new GatewayWorkers(
              runtime,
              view,
              links,
              watch,
              recorder,
              gateway,
              config.port === undefined ? undefined : { port: config.port, host: config.host ?? options.host, gatewayId: config.gatewayId },
              config.gatewayId,
            ),
          inject: [SessionsView, TargetLinks, GrantWatch, SessionRecorder, PgGateway],
        },
        {
          provide: ContextLifecycle,
          useFactory: (links: TargetLinks, tokens: SessionTokens, view: SessionsView, workers: GatewayWorkers) => new ContextLifecycle(runtime, [links, tokens, view], workers),
          inject: [TargetLinks, SessionTokens, SessionsView, GatewayWorkers],
        },
      ],
      exports: [GatewayWorkers, GatewaySessions, LiveSessions],
    };
  }
}
