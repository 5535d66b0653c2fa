import { FastifyAdapter } from '@nestjs/platform-fastify';
import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import { LogController } from 'fastify';
import type { Logger } from 'pino';
import { accessLogLine, httpLogger, LazyRequestLogger, requestIdOf } from './access-log';
import { badRequest, methodNotAllowed, ProblemException, problem, unsupportedMediaType } from './problem';
import { DEFAULT_HTTP_EDGE_SETTINGS, registerSecurityHeaders, type HttpEdgeSettings } from './security-headers';
import { INPUT_LIMITS, untrustedInputError, untrustedTargetError } from './untrusted-input';

/** An error answered in a family's own format (SCIM errors on SCIM routes) rather than as problem details. */
export interface ErrorAnswer {
  status: number;
  contentType: string;
  body: unknown;
}

/** JSON bodies a family of routes accepts beyond the platform's: other media types, a larger limit, its own error format. */
export interface JsonBodyRule {
  /** The routes whose path starts with this (`/scim/v2`). */
  pathPrefix: string;
  /** Media types parsed as JSON on these routes only (`application/scim+json`); `application/json` is parsed everywhere. */
  mediaTypes: string[];
  /** Largest body of these routes, in bytes, whatever its JSON media type. */
  maxBytes: number;
  /** How an error raised before a route ran (a body that is not JSON, too large, of another type) is answered on these paths. */
  answerError(error: unknown): ErrorAnswer;
}

/** A body sent as JSON that does not parse, or is not an object or array (SCIM words it as invalidSyntax). */
export class BodyNotJson extends ProblemException {
  constructor(detail = 'the request body is not valid JSON') {
    super(problem(400, 'validation', detail));
  }
}

const rulesOf = new WeakMap<FastifyInstance, JsonBodyRule[]>();

/** The methods a router may serve, in the order an `Allow` header lists them. */
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

/**
 * createHttpAdapter is the platform's Fastify: its pino logger (one JSON stream, a request id on
 * every line, one access-log line per request), and what no route may accept answered before any
 * route, guard or pipe sees it: a NUL character in the URL (400), a body over the limit (413,
 * before the token is checked), a body of a media type no route reads (415), and a JSON body
 * that is not JSON or holds what untrustedInputError refuses (400). Errors raised here reach
 * Nest's exception filters through the error handler Nest installs, so they are problem details.
 * Every answer, errors included, carries the security headers (registerSecurityHeaders).
 */
export function createHttpAdapter(logger: Logger, edge: HttpEdgeSettings = DEFAULT_HTTP_EDGE_SETTINGS): FastifyAdapter {
  const adapter = new FastifyAdapter({
    loggerInstance: httpLogger(logger),
    logController: new AccessLog({ requestIdLogLabel: 'requestId' }),
    genReqId: requestIdOf,
    childLoggerFactory: (parent: FastifyBaseLogger, bindings: Record<string, unknown>, options: object) =>
      new LazyRequestLogger(parent as unknown as Logger, bindings, options as Record<string, unknown>) as unknown as FastifyBaseLogger,
    bodyLimit: INPUT_LIMITS.maxBodyBytes,
    // Express (before Fastify) matched `/roles/` as `/roles` and had no limit on a parameter's length.
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 1000 },
    trustProxy: edge.trustProxy,
  });
  const fastify = adapter.getInstance() as unknown as FastifyInstance;
  rulesOf.set(fastify, []);
  registerSecurityHeaders(fastify, edge);
  fastify.decorateRequest('principal', null);
  // Only JSON is parsed: a form or text body on a JSON route is a 415, not a body of nothing.
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser('application/json', { parseAs: 'string' }, (_request: FastifyRequest, text: string | Buffer, done: (error: Error | null, body?: unknown) => void) => {
    parseJsonBody(String(text), done);
  });
  fastify.addHook('onRequest', (request: FastifyRequest, reply: FastifyReply, done: (error?: Error) => void) => {
    reply.header('X-Request-Id', request.id);
    const target = untrustedTargetError(request.raw.url ?? '');
    done(target ? badRequest(`invalid request: ${target.message}`, [target]) : undefined);
  });
  fastify.addHook('onRoute', (route: RouteOptions) => {
    const rule = ruleFor(fastify, route.url ?? '');
    if (rule && route.bodyLimit === undefined) route.bodyLimit = rule.maxBytes;
  });
  return adapter;
}

/** Fastify's request logging as one access-log line per request (accessLogLine), not two. */
class AccessLog extends LogController {
  override incomingRequest(): void {}

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    accessLogLine(request, reply, error);
  }
}

/**
 * acceptJsonBodies lets the routes under `rule.pathPrefix` read JSON of other media types and up
 * to `rule.maxBytes`, and answer errors raised before a route in their own format. Call it before
 * the application's routes are registered (a module's constructor, at NestFactory.create).
 */
export function acceptJsonBodies(fastify: FastifyInstance, rule: JsonBodyRule): void {
  const rules = rulesOf.get(fastify);
  if (!rules) throw new Error('acceptJsonBodies: not the platform HTTP adapter (createHttpAdapter)');
  rules.push(rule);
  fastify.addContentTypeParser(rule.mediaTypes, { parseAs: 'string' }, (request: FastifyRequest, text: string | Buffer, done: (error: Error | null, body?: unknown) => void) => {
    if (!pathOf(request.url).startsWith(rule.pathPrefix)) return done(unsupportedMediaType(`${request.headers['content-type']} is not accepted here: send application/json`));
    parseJsonBody(String(text), done);
  });
}

/** The rule of the path's family, if one was given (acceptJsonBodies). */
export function errorAnswerFor(request: FastifyRequest | undefined, error: unknown): ErrorAnswer | undefined {
  if (!request?.server) return undefined;
  return ruleFor(request.server, pathOf(request.url))?.answerError(error);
}

function ruleFor(fastify: FastifyInstance, path: string): JsonBodyRule | undefined {
  return rulesOf.get(fastify)?.find((rule) => path === rule.pathPrefix || path.startsWith(`${rule.pathPrefix}/`));
}

function pathOf(url: string): string {
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}

function parseJsonBody(text: string, done: (error: Error | null, body?: unknown) => void): void {
  // An empty body is no body: the route's validation names what is missing.
  if (text === '') return done(null, undefined);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return done(new BodyNotJson());
  }
  // As Express's parser did (strict): a body is an object or an array, never a bare null, number or string.
  if (typeof body !== 'object' || body === null) return done(new BodyNotJson('the request body must be a JSON object or array'));
  const error = untrustedInputError(body);
  done(error ? badRequest(`invalid request: ${error.message}`, [error]) : null, body);
}

/**
 * The 405 of a request no route matched, when its path is served with other methods; undefined
 * when the path is unknown (a 404).
 */
export function methodNotAllowedFor(request: FastifyRequest | undefined): ProblemException | undefined {
  if (!request?.server || !request.is404) return undefined;
  const path = pathOf(request.url);
  const allowed = METHODS.filter((method) => method !== request.method && request.server.findRoute({ method, url: path }) !== null);
  return allowed.length > 0 ? methodNotAllowed(request.method, allowed) : undefined;
}
