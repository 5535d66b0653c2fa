import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { DevTokenIssuer } from './auth/token-verifier';
import { FastRoutes } from './fast-routes';
import { badRequest } from './problem';

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
    routes.post('/things', {
      roles: ['custos:hr'],
      handle: async (body, principal, headers) => {
        if (typeof body !== 'object' || body === null || !('name' in body)) throw badRequest('invalid request: name', [{ field: 'name', message: 'name should not be empty' }]);
        if ((body as { name: string }).name === 'boom') throw new Error('secret internals');
        return { status: 202, body: { ...body, caller: principal.sub, correlation: headers['x-correlation-id'] ?? null } };
      },
    });
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

  it('refuses a NUL character in the query with a 400, before the handler', async () => {
    const token = await issuer.issue({ sub: 'svc-1' });
    const r = await fetch(`${url}/check?identityId=i%001&entitlement=e`, { headers: { authorization: `Bearer ${token}` } });
    expect(r.status).toBe(400);
    expect(await r.json()).toMatchObject({ errors: [{ field: 'url' }] });
  });

  it('refuses a JSON body no route may accept (deep, prototype names, NUL) with a 400, before the handler', async () => {
    const token = await issuer.issue({ sub: 'hr-1', roles: ['custos:hr'] });
    const post = (text: string) => fetch(`${url}/things`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: text });
    for (const text of ['{"name":' + '['.repeat(3000) + ']'.repeat(3000) + '}', '{"name":"x","__proto__":{"roles":["custos:admin"]}}', '{"name":"a\\u0000b"}']) {
      const r = await post(text);
      expect(r.status).toBe(400);
    }
    expect(({} as Record<string, unknown>).roles).toBeUndefined();
  });

  it('hands every other request to the framework', async () => {
    await fetch(`${url}/check/more`);
    await fetch(`${url}/check?identityId=i1&entitlement=e`, { method: 'POST' });
    await fetch(`${url}/other`);
    expect(fellThrough).toEqual(['GET /check/more', 'POST /check?identityId=i1&entitlement=e', 'GET /other']);
  });

  describe('JSON writes', () => {
    const post = async (body: string, headers: Record<string, string> = {}, roles = ['custos:hr']) => {
      const token = await issuer.issue({ sub: 'hr-system', roles });
      return fetch(`${url}/things`, { method: 'POST', body, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...headers } });
    };

    it('answers a registered POST with the handler status and body, headers passed on', async () => {
      const r = await post(JSON.stringify({ name: 'x' }), { 'x-correlation-id': 'c-1' });
      expect(r.status).toBe(202);
      expect(r.headers.get('content-type')).toBe('application/json; charset=utf-8');
      expect(await r.json()).toEqual({ name: 'x', caller: 'hr-system', correlation: 'c-1' });
    });

    it.each([
      ['no token', () => fetch(`${url}/things`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } }), 401, 'unauthenticated'],
      ['a caller without the role', () => post('{"name":"x"}', {}, ['custos:employee']), 403, 'forbidden'],
      ['a body that is not JSON', () => post('{"name":'), 400, 'validation'],
      ['a body the handler refuses', () => post('{"colour":"blue"}'), 400, 'validation'],
      ['a body over 100 KiB', () => post(JSON.stringify({ name: 'x'.repeat(110 * 1024) })), 413, 'payload-too-large'],
      ['a handler that fails unexpectedly, without leaking why', () => post('{"name":"boom"}'), 500, 'internal'],
    ])('refuses %s with a problem', async (_, send, status, kind) => {
      const r = await send();
      expect(r.status).toBe(status);
      expect(r.headers.get('content-type')).toContain('application/problem+json');
      const body = (await r.json()) as { type: string; detail: string };
      expect(body.type).toContain(kind);
      expect(body.detail).not.toContain('secret');
    });

    it('leaves writes with an Idempotency-Key, or with another media type, to the framework', async () => {
      fellThrough.length = 0;
      await post('{"name":"x"}', { 'idempotency-key': 'k-1' });
      await post('{"name":"x"}', { 'content-type': 'application/scim+json' });
      await post('{"name":"x"}', { 'content-type': 'text/plain' });
      expect(fellThrough).toEqual(['POST /things', 'POST /things', 'POST /things']);
    });
  });
});
