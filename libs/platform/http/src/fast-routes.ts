import type { IncomingMessage, RequestListener, Server, ServerResponse } from 'node:http';
import type { Principal } from './auth/principal';
import type { TokenVerifier } from './auth/token-verifier';
import { problem, ProblemBody, ProblemException } from './problem';

/** A read answered from memory, with the query parameters it accepts. */
export interface FastRoute {
  /** Query parameters, all required and non-empty; any other parameter is refused (as the DTO would). */
  params: string[];
  handle(params: Record<string, string>, principal: Principal): unknown;
}

/** DI token of the process's FastRoutes. */
export const FAST_ROUTES = Symbol('FAST_ROUTES');

/**
 * FastRoutes answers a few hot GET routes (the check API) on the bare HTTP server, before Express
 * and Nest: they add several times the cost of a decision that takes microseconds. The same
 * bearer token rules and problem details apply; the Nest controller of the route stays as its
 * documentation (OpenAPI) and as the path for any request the fast path does not take.
 */
export class FastRoutes {
  private readonly routes = new Map<string, FastRoute>();

  constructor(private readonly verifier: TokenVerifier) {}

  /** Registers `GET path`. */
  get(path: string, route: FastRoute): void {
    this.routes.set(path, route);
  }

  /** Puts the fast path in front of the server's existing request listener (Express). */
  install(server: Server): void {
    const [fallback] = server.listeners('request') as RequestListener[];
    if (!fallback) throw new Error('the HTTP server has no request listener to put the fast path in front of');
    server.removeAllListeners('request');
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      if (req.method !== 'GET' || this.routes.size === 0) return fallback.call(server, req, res);
      const url = req.url ?? '/';
      const q = url.indexOf('?');
      const route = this.routes.get(q === -1 ? url : url.slice(0, q));
      if (!route) return fallback.call(server, req, res);
      void this.answer(route, req, res, q === -1 ? '' : url.slice(q + 1));
    });
  }

  private async answer(route: FastRoute, req: IncomingMessage, res: ServerResponse, query: string): Promise<void> {
    try {
      const principal = await this.authenticate(req);
      const params = this.parse(route, query);
      send(res, 200, 'application/json', route.handle(params, principal));
    } catch (error) {
      const body: ProblemBody = error instanceof ProblemException ? error.body : problem(500, 'internal', 'an unexpected error occurred');
      send(res, body.status, 'application/problem+json', body);
    }
  }

  private async authenticate(req: IncomingMessage): Promise<Principal> {
    const match = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '');
    if (!match) throw new ProblemException(problem(401, 'unauthenticated', 'a bearer token is required'));
    try {
      return await this.verifier.verify(match[1]);
    } catch (error) {
      throw new ProblemException(problem(401, 'unauthenticated', `invalid token: ${(error as Error).message}`));
    }
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

function send(res: ServerResponse, status: number, type: string, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': `${type}; charset=utf-8`, 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
