import { Logger } from '@nestjs/common';
import type { IncomingHttpHeaders, IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http';
import { authenticateBearer, requireRole } from './auth/auth.guard';
import type { Principal } from './auth/principal';
import type { TokenVerifier } from './auth/token-verifier';
import { badRequest, problem, ProblemException } from './problem';
import { INPUT_LIMITS, untrustedInputError, untrustedTargetError } from './untrusted-input';
import { toProblem } from './problem.filter';

/** A read answered from memory, with the query parameters it accepts. */
export interface FastRoute {
  /** Query parameters, all required and non-empty; any other parameter is refused (as the DTO would). */
  params: string[];
  handle(params: Record<string, string>, principal: Principal): unknown;
}

/** A hot JSON write: authenticated, role-checked, its body parsed; the handler validates and answers. */
export interface FastPost {
  /** The caller needs one of these roles (as @Roles on the controller). */
  roles: string[];
  /** Validates the parsed body (throwing a ProblemException naming each bad field) and does the write. */
  handle(body: unknown, principal: Principal, headers: IncomingHttpHeaders): Promise<{ status: number; body: unknown }>;
}

/** Largest JSON body a fast POST reads (the platform's limit for every JSON route). */
const MAX_BODY_BYTES = INPUT_LIMITS.maxBodyBytes;

/** DI token of the process's FastRoutes. */
export const FAST_ROUTES = Symbol('FAST_ROUTES');

/**
 * FastRoutes answers a few hot routes (the check API, the HR webhook) on the bare HTTP server,
 * before Express and Nest: their routing, guards, interceptors and pipes cost several times a
 * decision that takes microseconds, and more than half of an HR write. The same bearer token and
 * role rules, validation and problem details apply; the Nest controller of the route stays as its
 * documentation (OpenAPI) and as the path for any request the fast path does not take (a write
 * with an Idempotency-Key, a body that is not JSON).
 */
export class FastRoutes {
  private readonly routes = new Map<string, FastRoute>();
  private readonly posts = new Map<string, FastPost>();
  private readonly logger = new Logger('http');

  constructor(private readonly verifier: TokenVerifier) {}

  /** Registers `GET path`. */
  get(path: string, route: FastRoute): void {
    this.routes.set(path, route);
  }

  /** Registers `POST path` for JSON bodies. */
  post(path: string, route: FastPost): void {
    this.posts.set(path, route);
  }

  /** Puts the fast path in front of the server's existing request listener (Express). */
  install(server: Server): void {
    const [fallback] = server.listeners('request') as RequestListener[];
    if (!fallback) throw new Error('the HTTP server has no request listener to put the fast path in front of');
    server.removeAllListeners('request');
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      const url = req.url ?? '/';
      const q = url.indexOf('?');
      const path = q === -1 ? url : url.slice(0, q);
      if (req.method === 'GET') {
        const route = this.routes.get(path);
        if (route) return void this.answer(res, () => this.read(route, req, q === -1 ? '' : url.slice(q + 1)));
      } else if (req.method === 'POST' && q === -1) {
        const route = this.posts.get(path);
        if (route && takesFastPost(req.headers)) return void this.answer(res, () => this.write(route, req));
      }
      fallback.call(server, req, res);
    });
  }

  private async answer(res: ServerResponse, work: () => Promise<{ status: number; body: unknown }>): Promise<void> {
    try {
      const { status, body } = await work();
      send(res, status, 'application/json', body);
    } catch (error) {
      const body = toProblem(error);
      if (body.status >= 500) this.logger.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
      send(res, body.status, 'application/problem+json', body);
    }
  }

  private async read(route: FastRoute, req: IncomingMessage, query: string): Promise<{ status: number; body: unknown }> {
    const target = untrustedTargetError(req.url ?? '');
    if (target) throw badRequest(`invalid request: ${target.message}`, [target]);
    const principal = await authenticateBearer(this.verifier, req.headers.authorization, req.socket.remoteAddress);
    return { status: 200, body: route.handle(this.parse(route, query), principal) };
  }

  private async write(route: FastPost, req: IncomingMessage): Promise<{ status: number; body: unknown }> {
    // Authenticate before reading the body, as the guard would refuse before the pipe parses it;
    // the server discards a body left unread once the answer is sent.
    const principal = await authenticateBearer(this.verifier, req.headers.authorization, req.socket.remoteAddress);
    requireRole(principal, route.roles);
    const text = await readBody(req);
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new ProblemException(problem(400, 'validation', 'the request body is not valid JSON'));
    }
    const unacceptable = untrustedInputError(body);
    if (unacceptable) throw badRequest(`invalid request: ${unacceptable.message}`, [unacceptable]);
    return route.handle(body, principal, req.headers);
  }

  private parse(route: FastRoute, query: string): Record<string, string> {
    const search = new URLSearchParams(query);
    const params: Record<string, string> = {};
    const errors: Array<{ field: string; message: string }> = [];
    for (const [key, value] of search) {
      if (!route.params.includes(key)) errors.push({ field: key, message: `property ${key} should not exist` });
      else params[key] = value;
    }
    for (const name of route.params) if (!params[name]) errors.push({ field: name, message: `${name} should not be empty` });
    if (errors.length > 0) throw new ProblemException(problem(400, 'validation', `invalid request: ${errors.map((e) => e.field).join(', ')}`, { errors }));
    return params;
  }
}

/** A JSON body without an Idempotency-Key: the Nest path handles idempotent replays and other media types. */
function takesFastPost(headers: IncomingHttpHeaders): boolean {
  const type = headers['content-type'];
  return headers['idempotency-key'] === undefined && type !== undefined && /^application\/json\s*(;|$)/i.test(type);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    const tooLarge = () => new ProblemException(problem(413, 'payload-too-large', `the request body is larger than ${MAX_BODY_BYTES} bytes`));
    if (declared > MAX_BODY_BYTES) return reject(tooLarge());
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on('end', () =>
      size > MAX_BODY_BYTES ? reject(tooLarge()) : resolve(Buffer.concat(chunks).toString('utf8')),
    );
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, type: string, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': `${type}; charset=utf-8`, 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
