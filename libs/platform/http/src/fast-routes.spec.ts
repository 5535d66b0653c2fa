import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { DevTokenIssuer } from './auth/token-verifier';
import { FastRoutes } from './fast-routes';

describe('fast routes in front of the HTTP framework', () => {
  let server: Server;
  let url: string;
  let issuer: DevTokenIssuer;
  const fellThrough: string[] = [];

  beforeAll(async () => {
    issuer = await DevTokenIssuer.create();
    server = createServer((req, res) => {
      fellThrough.push(`${req.method} ${req.url}`);
      res.end('framework');
    });
    const routes = new FastRoutes(issuer);
    routes.get('/check', { params: ['identityId', 'entitlement'], handle: (p, principal) => ({ ...p, caller: principal.sub }) });
    routes.install(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('answers a registered GET with the handler result for an authenticated caller', async () => {
    const token = await issuer.issue({ sub: 'svc-1' });
    const r = await fetch(`${url}/check?identityId=i1&entitlement=github%3Aadmin`, { headers: { authorization: `Bearer ${token}` } });
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ identityId: 'i1', entitlement: 'github:admin', caller: 'svc-1' });
  });

  it.each([
    ['no token', '', '/check?identityId=i1&entitlement=e', 401],
    ['a bad token', 'Bearer nope', '/check?identityId=i1&entitlement=e', 401],
  ])('refuses %s with a problem', async (_, authorization, path, status) => {
    const r = await fetch(`${url}${path}`, { headers: authorization ? { authorization } : {} });
    expect(r.status).toBe(status);
    expect(r.headers.get('content-type')).toContain('application/problem+json');
  });

  it('names every missing or unknown parameter in a 400 problem', async () => {
    const token = await issuer.issue({ sub: 'svc-1' });
    const r = await fetch(`${url}/check?identityId=&colour=blue`, { headers: { authorization: `Bearer ${token}` } });
    expect(r.status).toBe(400);
    const body = (await r.json()) as { errors: Array<{ field: string }> };
    expect(body.errors.map((e) => e.field).sort()).toEqual(['colour', 'entitlement', 'identityId']);
  });

  it('hands every other request to the framework', async () => {
    await fetch(`${url}/check/more`);
    await fetch(`${url}/check?identityId=i1&entitlement=e`, { method: 'POST' });
    await fetch(`${url}/other`);
    expect(fellThrough).toEqual(['GET /check/more', 'POST /check?identityId=i1&entitlement=e', 'GET /other']);
  });
});
