import helmet, { type HelmetOptions } from 'helmet';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { IncomingMessage, ServerResponse } from 'node:http';

/** How the HTTP edge answers browsers and sees its clients (read from the environment by readHttpEdgeSettings). */
export interface HttpEdgeSettings {
  /** CUSTOS_HSTS_MAX_AGE: Strict-Transport-Security max-age in seconds (default one year); 0 sends none (an ingress that sets its own). */
  hstsMaxAgeSec: number;
  /**
   * CUSTOS_TRUST_PROXY: the proxies whose X-Forwarded-For names the client (addresses or CIDRs,
   * comma-separated, or a number of hops); unset trusts none, so the client is the TCP peer.
   */
  trustProxy: false | number | string[];
}

export const DEFAULT_HTTP_EDGE_SETTINGS: HttpEdgeSettings = { hstsMaxAgeSec: 31_536_000, trustProxy: false };

/** readHttpEdgeSettings reads the edge's settings from the environment, refusing what is malformed at start. */
export function readHttpEdgeSettings(env: NodeJS.ProcessEnv = process.env): HttpEdgeSettings {
  const hsts = env.CUSTOS_HSTS_MAX_AGE?.trim();
  const hstsMaxAgeSec = hsts ? Number(hsts) : DEFAULT_HTTP_EDGE_SETTINGS.hstsMaxAgeSec;
  if (!Number.isInteger(hstsMaxAgeSec) || hstsMaxAgeSec < 0 || hstsMaxAgeSec > 63_072_000) {
    throw new Error(`CUSTOS_HSTS_MAX_AGE must be a whole number of seconds from 0 to 63072000, got ${JSON.stringify(hsts)}`);
  }
  const proxy = env.CUSTOS_TRUST_PROXY?.trim();
  let trustProxy: HttpEdgeSettings['trustProxy'] = false;
  if (proxy && /^\d+$/.test(proxy)) trustProxy = Number(proxy);
  else if (proxy) {
    trustProxy = proxy.split(',').map((entry) => entry.trim()).filter(Boolean);
    const bad = trustProxy.find((entry) => !/^[0-9a-fA-F:.]+(\/\d{1,3})?$/.test(entry));
    if (bad !== undefined) throw new Error(`CUSTOS_TRUST_PROXY must be a number of hops or proxy addresses and CIDRs separated by commas, got ${JSON.stringify(bad)}`);
  }
  return { hstsMaxAgeSec, trustProxy };
}

/** The Swagger UI's page and assets (not /docs-json, which is data like any other answer). */
function isDocsPage(request: IncomingMessage): boolean {
  const url = request.url ?? '';
  return url === '/docs' || url.startsWith('/docs/') || url.startsWith('/docs?');
}

/** The CSP of the Swagger UI's pages: its own scripts, styles, images and fonts, nothing else. */
const DOCS_CSP = {
  'default-src': ["'self'"],
  'script-src': ["'self'"],
  'style-src': ["'self'", "'unsafe-inline'"],
  'img-src': ["'self'", 'data:'],
  'font-src': ["'self'", 'data:'],
  'connect-src': ["'self'"],
  'form-action': ["'self'"],
};

/**
 * The headers a helmet middleware sets, found by running it once against a response that only
 * records them: helmet stays the one description of what a header says, and no request pays for
 * its twelve middlewares and their setHeader calls (about 6% of the CPU of GET /check under load).
 * Helmet only removes X-Powered-By, which Fastify never sends.
 */
function headersOf(middleware: ReturnType<typeof helmet>): Readonly<Record<string, string>> {
  const headers: Record<string, string> = {};
  const recorder = {
    setHeader: (name: string, value: string | number | readonly string[]) => void (headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : String(value)),
    removeHeader: (name: string) => void delete headers[name.toLowerCase()],
  };
  let finished: { error?: unknown } | undefined;
  middleware({} as IncomingMessage, recorder as unknown as ServerResponse, (error?: unknown) => (finished = { error }));
  if (!finished) throw new Error('helmet did not set its headers at once: they cannot be worked out at start');
  if (finished.error) throw finished.error instanceof Error ? finished.error : new Error(String(finished.error));
  return Object.freeze(headers);
}

/**
 * securityHeaders says the headers of every answer (helmet): a JSON API renders nothing, so its
 * Content-Security-Policy allows nothing and no page may frame it (frame-ancestors 'none',
 * X-Frame-Options DENY); the Swagger UI at /docs may load its own scripts, styles and images.
 * X-Content-Type-Options nosniff, Referrer-Policy no-referrer, Strict-Transport-Security unless
 * its max-age is 0 (browsers heed it over HTTPS only, as TLS ends at the ingress), no X-Powered-By.
 */
export function securityHeaders(settings: HttpEdgeSettings): { api: Readonly<Record<string, string>>; docs: Readonly<Record<string, string>> } {
  const common: HelmetOptions = {
    frameguard: { action: 'deny' },
    referrerPolicy: { policy: 'no-referrer' },
    strictTransportSecurity: settings.hstsMaxAgeSec > 0 ? { maxAge: settings.hstsMaxAgeSec, includeSubDomains: true } : false,
  };
  const fixed = { 'base-uri': ["'none'"], 'object-src': ["'none'"], 'frame-ancestors': ["'none'"] };
  return {
    api: headersOf(helmet({ ...common, contentSecurityPolicy: { useDefaults: false, directives: { 'default-src': ["'none'"], 'form-action': ["'none'"], ...fixed } } })),
    docs: headersOf(helmet({ ...common, contentSecurityPolicy: { useDefaults: false, directives: { ...DOCS_CSP, ...fixed } } })),
  };
}

/**
 * registerSecurityHeaders puts the security headers (securityHeaders, worked out once at start)
 * on every answer that goes through Fastify's reply, errors included. A route that writes to the
 * raw response itself (reply.hijack) must set them there.
 */
export function registerSecurityHeaders(fastify: FastifyInstance, settings: HttpEdgeSettings): void {
  const { api, docs } = securityHeaders(settings);
  fastify.addHook('onRequest', (request: FastifyRequest, reply: FastifyReply, done: (error?: Error) => void) => {
    reply.headers(isDocsPage(request.raw) ? docs : api);
    done();
  });
}
