import type { LoggerService } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Logger } from 'pino';
import type { Principal } from './auth/principal';

/** What a log line must never carry: credentials in headers, and tokens wherever a body or an error puts them. */
export const LOG_REDACTIONS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'headers.cookie',
  'authorization',
  'cookie',
  'token',
  'access_token',
  'refresh_token',
  'id_token',
  '*.authorization',
  '*.token',
  '*.access_token',
  '*.refresh_token',
  '*.id_token',
];

/** The HTTP layer's logger: the process's pino logger with credentials redacted. */
export function httpLogger(logger: Logger): Logger {
  return logger.child({}, { redact: { paths: LOG_REDACTIONS, censor: '[redacted]' } });
}

type Level = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';
type LogArgs = Parameters<Logger['info']>;

/**
 * A request's logger (`request.log`) whose pino child, the one carrying the request id, is only
 * made when a line is written at an enabled level: Fastify asks for a child on every request, and
 * most requests write no line but the access line (none when `info` is off), while a pino child
 * costs its bindings serialised and redacted each time.
 */
export class LazyRequestLogger {
  private made?: Logger;

  constructor(
    private readonly parent: Logger,
    private readonly bindings: Record<string, unknown>,
    private readonly options: Record<string, unknown>,
  ) {}

  private real(): Logger {
    this.made ??= this.parent.child(this.bindings, this.options);
    return this.made;
  }

  get level(): string {
    return (this.made ?? this.parent).level;
  }
  set level(level: string) {
    this.real().level = level;
  }

  isLevelEnabled(level: string): boolean {
    return (this.made ?? this.parent).isLevelEnabled(level);
  }

  fatal(...args: LogArgs): void {
    this.write('fatal', args);
  }
  error(...args: LogArgs): void {
    this.write('error', args);
  }
  warn(...args: LogArgs): void {
    this.write('warn', args);
  }
  info(...args: LogArgs): void {
    this.write('info', args);
  }
  debug(...args: LogArgs): void {
    this.write('debug', args);
  }
  trace(...args: LogArgs): void {
    this.write('trace', args);
  }
  silent(): void {}

  child(bindings: Record<string, unknown>, options?: Record<string, unknown>): Logger {
    return this.real().child(bindings, options);
  }

  private write(level: Level, args: LogArgs): void {
    if (this.isLevelEnabled(level)) (this.real()[level] as (...a: LogArgs) => void)(...args);
  }
}

/** A request id a client may choose: short, printable, no spaces (it is echoed in a header and logged). */
const CLIENT_REQUEST_ID = /^[A-Za-z0-9._:/+=-]{1,128}$/;
/** W3C Trace Context: version-traceid-parentid-flags. */
const TRACEPARENT = /^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$/;

/** requestIdOf keeps a well-formed `X-Request-Id` of the client and makes one up otherwise. */
export function requestIdOf(request: IncomingMessage): string {
  const given = request.headers['x-request-id'];
  return typeof given === 'string' && CLIENT_REQUEST_ID.test(given) ? given : randomUUID();
}

/** The trace id of a well-formed W3C `traceparent` header (not the all-zero id, which is invalid). */
export function traceIdOf(traceparent: string | string[] | undefined): string | undefined {
  if (typeof traceparent !== 'string') return undefined;
  const match = TRACEPARENT.exec(traceparent.trim().toLowerCase());
  return match && !/^0+$/.test(match[1]) ? match[1] : undefined;
}

/** Query parameters whose values are credentials: never logged. */
const SECRET_PARAMS = /^(access_token|token|id_token|refresh_token|code|client_secret|password)$/i;

/** The URL as logged: its query's credentials replaced. */
function loggedUrl(url: string): string {
  const q = url.indexOf('?');
  if (q === -1) return url;
  const params = url
    .slice(q + 1)
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      const name = eq === -1 ? pair : pair.slice(0, eq);
      return eq !== -1 && SECRET_PARAMS.test(decodeURIComponentSafe(name)) ? `${name}=[redacted]` : pair;
    });
  return `${url.slice(0, q)}?${params.join('&')}`;
}

function decodeURIComponentSafe(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/**
 * accessLogLine writes one line per answered request: its request id (on every line of the
 * request, as `requestId`), method, route, URL, status, duration, the caller's subject once
 * authenticated, the correlation id and the W3C trace id when the client sent them. Headers are
 * not logged, so neither are the bearer token nor cookies.
 */
export function accessLogLine(request: FastifyRequest, reply: FastifyReply, error?: Error | null): void {
  if (!(request.log as unknown as Logger).isLevelEnabled(error ? 'error' : 'info')) return;
  const principal = (request as FastifyRequest & { principal?: Principal | null }).principal;
  const correlationId = request.headers['x-correlation-id'];
  request.log[error ? 'error' : 'info'](
    {
      ...(error ? { err: error } : {}),
      method: request.method,
      route: request.routeOptions.url ?? null,
      url: loggedUrl(request.url),
      status: reply.statusCode,
      durationMs: Math.round(reply.elapsedTime * 100) / 100,
      ...(principal ? { principal: principal.sub } : {}),
      ...(typeof correlationId === 'string' && correlationId !== '' ? { correlationId: correlationId.slice(0, 200) } : {}),
      ...(traceIdOf(request.headers.traceparent) ? { traceId: traceIdOf(request.headers.traceparent) } : {}),
    },
    'request',
  );
}

const NEST_CONTEXTS = new Set(['NestFactory', 'InstanceLoader', 'RoutesResolver', 'RouterExplorer', 'NestApplication', 'NestMicroservice']);

/**
 * PinoNestLogger routes Nest's Logger (the framework's own messages and every `new Logger(...)`
 * in Custos) into the process's pino stream: one JSON stream, no coloured text on stdout.
 */
export class PinoNestLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}

  log(message: unknown, ...rest: unknown[]): void {
    // Nest's own start-up chatter (each module loaded, each route mapped) is debug, not info.
    const context = rest[rest.length - 1];
    this.write(typeof context === 'string' && NEST_CONTEXTS.has(context) ? 'debug' : 'info', message, rest);
  }
  error(message: unknown, ...rest: unknown[]): void {
    // Nest calls error(message, stack?, context?).
    const context = rest.length > 0 && typeof rest[rest.length - 1] === 'string' ? (rest.pop() as string) : undefined;
    const stack = typeof rest[0] === 'string' ? rest[0] : undefined;
    const fields = { ...(context ? { context } : {}), ...(stack ? { stack } : {}) };
    if (message instanceof Error) this.logger.error({ ...fields, err: message }, message.message);
    else this.logger.error(fields, String(message));
  }
  warn(message: unknown, ...rest: unknown[]): void {
    this.write('warn', message, rest);
  }
  debug(message: unknown, ...rest: unknown[]): void {
    this.write('debug', message, rest);
  }
  verbose(message: unknown, ...rest: unknown[]): void {
    this.write('trace', message, rest);
  }
  fatal(message: unknown, ...rest: unknown[]): void {
    this.write('fatal', message, rest);
  }

  private write(level: 'info' | 'warn' | 'debug' | 'trace' | 'fatal', message: unknown, rest: unknown[]): void {
    if (!this.logger.isLevelEnabled(level)) return;
    const context = typeof rest[rest.length - 1] === 'string' ? (rest[rest.length - 1] as string) : undefined;
    const fields = context ? { context } : {};
    if (typeof message === 'object' && message !== null) this.logger[level]({ ...fields, ...(message as object) });
    else this.logger[level](fields, String(message));
  }
}
