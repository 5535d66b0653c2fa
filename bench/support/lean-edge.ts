/**
 * A diagnostic for `npm run bench:check -- --lean-edge`, not the product: the same AccessView
 * rebuilt from the same store, answering GET /check behind the same kind of bearer-token check
 * (the OIDC issuer's JWKS, each verified token remembered until it expires), but over plain
 * `node:http` (EDGE_FRAMEWORK=node) or plain Fastify (EDGE_FRAMEWORK=fastify) instead of NestJS
 * on Fastify. Run as its own process by the benchmark, it shows how much of an HTTP check the
 * view costs and how much the web framework does.
 *
 * Env: DATABASE_URL, CUSTOS_OIDC_ISSUER, PORT, EDGE_FRAMEWORK.
 */
import { createServer, type ServerResponse } from 'node:http';
import Fastify from 'fastify';
import { AccessView } from '../../libs/entitlement/application/src/read-models/access/access-view';
import { createPgDatabase } from '../../libs/platform/event-store/src/pg-database';
import { SqlEventStore } from '../../libs/platform/event-store/src/sql-event-store';
import { OidcTokenVerifier } from '../../libs/platform/http/src/auth/token-verifier';

async function main(): Promise<void> {
  const { DATABASE_URL, CUSTOS_OIDC_ISSUER, PORT } = process.env;
  if (!DATABASE_URL || !CUSTOS_OIDC_ISSUER || !PORT) throw new Error('DATABASE_URL, CUSTOS_OIDC_ISSUER and PORT are required');
  const db = createPgDatabase(DATABASE_URL, { max: 4, applicationName: 'custos-lean-edge' });
  const store = await SqlEventStore.open(db, { context: 'entitlement', schema: 'entitlement' });
  const view = new AccessView(store, (error) => console.error('access view', error));
  await view.start();
  const verifier = new OidcTokenVerifier(CUSTOS_OIDC_ISSUER);
  const verified = new Map<string, number>();
  const authenticated = async (header: string | undefined): Promise<boolean> => {
    const token = header?.startsWith('Bearer ') ? header.slice(7) : undefined;
    if (!token) return false;
    const until = verified.get(token);
    if (until !== undefined && until > Date.now()) return true;
    try {
      await verifier.verify(token);
    } catch {
      return false;
    }
    const exp = (JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()) as { exp?: number }).exp;
    verified.set(token, Math.min(Date.now() + 60_000, (exp ?? 0) * 1000));
    return true;
  };
  const send = (res: ServerResponse, status: number, body: unknown) => {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  };
  const answer = async (authorization: string | undefined, identityId: unknown, entitlement: unknown): Promise<{ status: number; body: unknown }> => {
    if (!(await authenticated(authorization))) return { status: 401, body: { title: 'unauthenticated' } };
    if (typeof identityId !== 'string' || typeof entitlement !== 'string' || !identityId || !entitlement) {
      return { status: 400, body: { title: 'identityId and entitlement are required' } };
    }
    return { status: 200, body: view.check(identityId, entitlement, new Date()) };
  };
  let server: import('node:http').Server;
  if (process.env.EDGE_FRAMEWORK === 'fastify') {
    const app = Fastify({ serverFactory: (handler) => createServer(handler) });
    app.get('/health', async () => ({ status: 'ok' }));
    app.get('/check', async (req, reply) => {
      const query = req.query as Record<string, unknown>;
      const { status, body } = await answer(req.headers.authorization, query.identityId, query.entitlement);
      return reply.status(status).send(body);
    });
    await app.ready();
    server = app.server;
  } else {
    server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://edge');
      if (url.pathname === '/health') return send(res, 200, { status: 'ok' });
      if (url.pathname !== '/check') return send(res, 404, { title: 'not found' });
      void answer(req.headers.authorization, url.searchParams.get('identityId'), url.searchParams.get('entitlement')).then(({ status, body }) => send(res, status, body));
    });
  }
  server.keepAliveTimeout = 60_000;
  server.listen(Number(PORT), '127.0.0.1');
  const stop = () => server.close(() => void view.stop().then(() => db.close()).then(() => process.exit(0)));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
