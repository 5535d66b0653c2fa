import { Controller, Get, Module } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createPgliteDatabase, SqlDatabase } from '@custos/platform/event-store';
import { readAuthSettings } from './auth/auth-settings';
import { Roles } from './auth/auth.guard';
import { FailedAuthLimiter } from './auth/failed-auth-limiter';
import { DevTokenIssuer } from './auth/token-verifier';
import { createCustosApp } from './bootstrap';
import { toProblem } from './problem.filter';
import { readHttpEdgeSettings, type HttpEdgeSettings } from './security-headers';

@Controller('things')
class ThingsController {
  @Get()
  @Roles('custos:admin')
  list(): { items: string[] } {
    return { items: [] };
  }
}

@Module({ controllers: [ThingsController] })
class ThingsModule {}

/** The headers every answer carries, errors and the Swagger UI included. */
const API_HEADERS = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'content-security-policy': expect.stringContaining("default-src 'none'"),
};

describe('hardening of the HTTP edge', () => {
  let db: SqlDatabase;
  let issuer: DevTokenIssuer;
  const apps: NestFastifyApplication[] = [];

  beforeAll(async () => {
    db = await createPgliteDatabase();
    issuer = await DevTokenIssuer.create();
  });

  afterAll(async () => {
    for (const app of apps) await app.close();
    await db?.close();
  });

  async function start(edge?: HttpEdgeSettings, failedAuthLimit = { limit: 3, windowSec: 60 }): Promise<string> {
    const app = await createCustosApp({ title: 'test', modules: [{ module: ThingsModule }], verifier: issuer, devIssuer: issuer, db, healthChecks: [], edge, failedAuthLimit });
    apps.push(app);
    await app.listen(0, '127.0.0.1');
    return `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
  }

  describe('security headers', () => {
    let url: string;
    let admin: string;

    beforeAll(async () => {
      url = await start();
      admin = await issuer.issue({ sub: 'admin-1', roles: ['custos:admin'] });
    });

    it.each([
      ['an answer', '/things', 200],
      ['a 401', '/things', 401],
      ['a 404', '/nothing-here', 404],
      ['a 400 of a URL the edge refuses', '/things/a%00b', 400],
      ['the OpenAPI document', '/docs-json', 200],
      ['a public route', '/health/live', 200],
    ])('are on %s', async (what, path, status) => {
      const response = await fetch(`${url}${path}`, { headers: status === 200 && path === '/things' ? { authorization: `Bearer ${admin}` } : {} });
      expect(response.status).toBe(status);
      const headers = Object.fromEntries(response.headers);
      expect(headers).toMatchObject({ ...API_HEADERS, 'strict-transport-security': 'max-age=31536000; includeSubDomains' });
      expect(headers['content-security-policy']).toContain("frame-ancestors 'none'");
      expect(headers['x-powered-by']).toBeUndefined();
    });

    it('let the Swagger UI at /docs load its own scripts, styles and images, and nothing frame it', async () => {
      const page = await fetch(`${url}/docs`);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('swagger-ui');
      const csp = page.headers.get('content-security-policy')!;
      for (const directive of ["default-src 'self'", "script-src 'self'", "style-src 'self' 'unsafe-inline'", "img-src 'self' data:", "connect-src 'self'", "frame-ancestors 'none'"]) {
        expect(csp).toContain(directive);
      }
      expect(csp).not.toContain('upgrade-insecure-requests');
      expect(page.headers.get('x-frame-options')).toBe('DENY');
      // Its script and stylesheet are served under /docs/ and load under that policy.
      const assets = [...(await (await fetch(`${url}/docs`)).text()).matchAll(/(?:src|href)="\.?\/?(docs\/[^"]+\.(?:js|css))"/g)].map((m) => m[1]);
      expect(assets.length).toBeGreaterThan(0);
      for (const asset of assets) {
        const response = await fetch(`${url}/${asset}`);
        expect([asset, response.status]).toEqual([asset, 200]);
        expect(response.headers.get('content-security-policy')).toContain("script-src 'self'");
      }
    });

    it('send no Strict-Transport-Security when its max-age is 0 (an ingress sets its own)', async () => {
      const other = await start({ hstsMaxAgeSec: 0, trustProxy: false });
      const response = await fetch(`${other}/health/live`);
      expect(response.headers.get('strict-transport-security')).toBeNull();
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    });
  });

  describe('failed authentication, limited per client address', () => {
    let url: string;
    let admin: string;
    // A proxy on loopback names the client, so that the test can be several clients.
    const from = (client: string, token?: string) =>
      fetch(`${url}/things`, { headers: { 'x-forwarded-for': client, ...(token !== undefined && { authorization: `Bearer ${token}` }) } });

    beforeAll(async () => {
      url = await start({ hstsMaxAgeSec: 0, trustProxy: ['127.0.0.1'] }, { limit: 3, windowSec: 60 });
      admin = await issuer.issue({ sub: 'admin-1', roles: ['custos:admin'] });
    });

    it('answers 429 with Retry-After once an address has failed `limit` times, even with a valid token; other addresses are unaffected', async () => {
      for (let i = 0; i < 3; i += 1) expect((await from('203.0.113.7', 'not-a-token')).status).toBe(401);
      const limited = await from('203.0.113.7', 'not-a-token');
      expect(limited.status).toBe(429);
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(55);
      expect(Number(limited.headers.get('retry-after'))).toBeLessThanOrEqual(60);
      expect(await limited.json()).toMatchObject({ type: 'urn:custos:problem:too-many-failed-authentications', title: 'Too Many Requests', status: 429 });
      expect((await from('203.0.113.7', admin)).status).toBe(429);
      expect((await from('203.0.113.8', admin)).status).toBe(200);
      expect((await from('203.0.113.8', 'not-a-token')).status).toBe(401);
    });

    it('counts neither requests without credentials nor valid ones nor a 403', async () => {
      const nobody = await issuer.issue({ sub: 'nobody' });
      for (let i = 0; i < 10; i += 1) {
        expect((await from('198.51.100.1')).status).toBe(401);
        expect((await from('198.51.100.1', admin)).status).toBe(200);
        expect((await from('198.51.100.1', nobody)).status).toBe(403);
      }
      expect((await from('198.51.100.1', 'not-a-token')).status).toBe(401);
    });

    it('counts credentials that are no bearer token as failures; with no proxy trusted, the client is the TCP peer', async () => {
      const remote = await start({ hstsMaxAgeSec: 0, trustProxy: false }, { limit: 2, windowSec: 60 });
      for (let i = 0; i < 2; i += 1) expect((await fetch(`${remote}/things`, { headers: { authorization: 'Basic YTpi' } })).status).toBe(401);
      expect((await fetch(`${remote}/things`, { headers: { authorization: `Bearer ${admin}` } })).status).toBe(429);
    });
  });

  describe('FailedAuthLimiter', () => {
    it('forgets an address when its window ends, and tracks at most maxAddresses', () => {
      let now = 0;
      const limiter = new FailedAuthLimiter({ limit: 2, windowSec: 10 }, () => now, 3);
      limiter.failed('a');
      limiter.failed('a');
      expect(toProblem(catching(() => limiter.check('a')))).toMatchObject({ status: 429, retryAfter: 10 });
      now = 9_500;
      expect(toProblem(catching(() => limiter.check('a')))).toMatchObject({ status: 429, retryAfter: 1 });
      now = 10_000;
      expect(() => limiter.check('a')).not.toThrow();
      for (const address of ['b', 'c', 'd', 'e']) {
        limiter.failed(address);
        limiter.failed(address);
      }
      // b was the oldest of four: forgotten to keep three.
      expect(() => limiter.check('b')).not.toThrow();
      expect(() => limiter.check('e')).toThrow();
    });

    it('limits nothing with a limit of 0', () => {
      const limiter = new FailedAuthLimiter({ limit: 0, windowSec: 60 });
      for (let i = 0; i < 100; i += 1) limiter.failed('a');
      expect(() => limiter.check('a')).not.toThrow();
    });
  });

  describe('settings', () => {
    it('reads the limit, HSTS and trusted proxies from the environment, and refuses nonsense', () => {
      expect(readAuthSettings({}).failedAuthLimit).toEqual({ limit: 20, windowSec: 60 });
      expect(readAuthSettings({ CUSTOS_AUTH_FAILURE_LIMIT: '0', CUSTOS_AUTH_FAILURE_WINDOW: '300' }).failedAuthLimit).toEqual({ limit: 0, windowSec: 300 });
      expect(() => readAuthSettings({ CUSTOS_AUTH_FAILURE_LIMIT: 'many' })).toThrow(/CUSTOS_AUTH_FAILURE_LIMIT must be a whole number of failures/);
      expect(readHttpEdgeSettings({})).toEqual({ hstsMaxAgeSec: 31_536_000, trustProxy: false });
      expect(readHttpEdgeSettings({ CUSTOS_HSTS_MAX_AGE: '0', CUSTOS_TRUST_PROXY: '10.0.0.0/8, 127.0.0.1' })).toEqual({ hstsMaxAgeSec: 0, trustProxy: ['10.0.0.0/8', '127.0.0.1'] });
      expect(readHttpEdgeSettings({ CUSTOS_TRUST_PROXY: '1' }).trustProxy).toBe(1);
      expect(() => readHttpEdgeSettings({ CUSTOS_HSTS_MAX_AGE: '-1' })).toThrow(/CUSTOS_HSTS_MAX_AGE/);
      expect(() => readHttpEdgeSettings({ CUSTOS_TRUST_PROXY: 'true' })).toThrow(/CUSTOS_TRUST_PROXY/);
    });
  });
});

function catching(run: () => void): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error('did not throw');
}
