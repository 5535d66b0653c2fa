import { createRequire } from 'node:module';
import fastifyStatic from '@fastify/static';
import type { OpenAPIObject } from '@nestjs/swagger';
import Fastify from 'fastify';
import { register } from 'prom-client';
import { problem } from './problem';
import { DEFAULT_HTTP_EDGE_SETTINGS, securityHeaders } from './security-headers';

/** One readiness check of /health: the store, the bus. */
export interface HealthCheck {
  name: string;
  check(): Promise<{ ok: boolean; detail: string }>;
}

/** GET /health's answer: every check's outcome, 200 when all are ok, else 503 with the same body. */
export async function healthReport(checks: readonly HealthCheck[]): Promise<{ httpStatus: 200 | 503; body: { status: 'ok' | 'degraded'; checks: Record<string, { ok: boolean; detail: string }> } }> {
  const results = await Promise.all(
    checks.map(async (c) => {
      try {
        return { name: c.name, ...(await c.check()) };
      } catch (error) {
        return { name: c.name, ok: false, detail: (error as Error).message };
      }
    }),
  );
  const ok = results.every((r) => r.ok);
  return { httpStatus: ok ? 200 : 503, body: { status: ok ? 'ok' : 'degraded', checks: Object.fromEntries(results.map(({ name, ...rest }) => [name, rest])) } };
}

export interface ManagementServer {
  url: string;
  close(): Promise<void>;
}

/** The Swagger UI's page: its assets from swagger-ui-dist (as @nestjs/swagger serves them), the document from /docs-json. */
const DOCS_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Custos API</title><link rel="stylesheet" href="/docs/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="/docs/swagger-ui-bundle.js"></script><script src="/docs/swagger-ui-standalone-preset.js"></script><script src="/docs/custos-init.js"></script>
</body></html>
`;
const DOCS_INIT = `window.ui = SwaggerUIBundle({ url: '/docs-json', dom_id: '#swagger-ui', presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset], layout: 'StandaloneLayout' });\n`;

/** Where swagger-ui-dist is, found the way @nestjs/swagger finds it (its dependency). */
function swaggerUiAssets(): string {
  const fromNestSwagger = createRequire(require.resolve('@nestjs/swagger'));
  return (fromNestSwagger('swagger-ui-dist/absolute-path.js') as () => string)();
}

/**
 * The management port (CUSTOS_MANAGEMENT_PORT), as Keycloak has one: `/health`, `/health/live`
 * and `/metrics` on a port of their own, and the API reference (`/docs`, `/docs-json`) when
 * `docs` is given, so that an ingress that forwards the public port never exposes them, and
 * probes and Prometheus reach them without a token. It serves nothing else (a 404 problem); the
 * public port then serves the API without them. Started once the process is ready (its HTTP
 * server listening and its consumers started), so a 200 from /health here means the whole
 * service is up.
 */
export async function startManagementServer(options: { port: number; host: string; checks: readonly HealthCheck[]; docs?: OpenAPIObject }): Promise<ManagementServer> {
  const server = Fastify({ logger: false });
  const headers = securityHeaders(DEFAULT_HTTP_EDGE_SETTINGS);
  server.addHook('onSend', async (request, reply) => {
    const page = request.url === '/docs' || request.url.startsWith('/docs/');
    reply.headers(page ? headers.docs : headers.api).header('cache-control', 'no-store');
  });
  if (options.docs) {
    const document = JSON.stringify(options.docs);
    server.get('/docs-json', async (_request, reply) => reply.type('application/json; charset=utf-8').send(document));
    server.get('/docs', async (_request, reply) => reply.type('text/html; charset=utf-8').send(DOCS_PAGE));
    server.get('/docs/custos-init.js', async (_request, reply) => reply.type('text/javascript; charset=utf-8').send(DOCS_INIT));
    await server.register(fastifyStatic, { root: swaggerUiAssets(), prefix: '/docs/', index: false, decorateReply: false, allowedPath: (path) => /^\/(swagger-ui[\w.-]*\.(js|css)|favicon-\d+x\d+\.png)$/.test(path) });
  }
  server.get('/health', async (_request, reply) => {
    const { httpStatus, body } = await healthReport(options.checks);
    return reply.status(httpStatus).send(body);
  });
  server.get('/health/live', async () => ({ status: 'ok' }));
  server.get('/metrics', async (_request, reply) => reply.type(register.contentType).send(await register.metrics()));
  const notServed = (path: string) => problem(404, 'not-found', `${path} is not served on the management port: /health, /health/live, /metrics${options.docs ? ', /docs and /docs-json' : ''} are`);
  server.setNotFoundHandler((request, reply) => reply.status(404).type('application/problem+json').send(JSON.stringify(notServed(request.url.split('?')[0]))));
  server.setErrorHandler((error: { statusCode?: number }, _request, reply) => {
    const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
    reply.status(status).type('application/problem+json').send(JSON.stringify(problem(status, status === 500 ? 'internal' : 'http', status === 500 ? 'an unexpected error occurred' : undefined)));
  });
  await server.listen({ port: options.port, host: options.host });
  const address = server.server.address() as { port: number };
  return { url: `http://127.0.0.1:${address.port}`, close: () => server.close() };
}
