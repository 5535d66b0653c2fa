import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readConfig } from '@custos/platform/runtime';
import { readAuthSettings } from './auth/auth-settings';
import { createVerifier, startCustos, type RunningCustos } from './server';

describe('createVerifier', () => {
  it('refuses an OIDC issuer without an audience in production (any application\'s token would do), and allows it elsewhere', async () => {
    const config = readConfig({ CUSTOS_OIDC_ISSUER: 'https://sso.example.com/realms/corp' });
    await expect(createVerifier(config, readAuthSettings({}), { NODE_ENV: 'production' })).rejects.toThrow(/CUSTOS_OIDC_AUDIENCE is required/);
    await expect(createVerifier(config, readAuthSettings({}), {})).resolves.toHaveProperty('verifier');
    await expect(createVerifier({ ...config, oidcAudience: 'custos' }, readAuthSettings({}), { NODE_ENV: 'production' })).resolves.toHaveProperty('verifier');
  });
});

describe('CUSTOS_MANAGEMENT_PORT', () => {
  it.each(['abc', '70000', '3000', '-1', '0x50'])('refuses CUSTOS_MANAGEMENT_PORT=%s beside PORT=3000 at start', (value) => {
    expect(() => readConfig({ PORT: '3000', CUSTOS_MANAGEMENT_PORT: value })).toThrow(/CUSTOS_MANAGEMENT_PORT must be a port number other than PORT/);
  });

  it('is read when set, and absent when unset or empty', () => {
    expect(readConfig({ PORT: '3000', CUSTOS_MANAGEMENT_PORT: '9000' }).managementPort).toBe(9000);
    expect(readConfig({ PORT: '3000' }).managementPort).toBeUndefined();
    expect(readConfig({ PORT: '3000', CUSTOS_MANAGEMENT_PORT: ' ' }).managementPort).toBeUndefined();
  });

  describe('a process with a management port', () => {
    let dataDir: string;
    let custos: RunningCustos;

    beforeAll(async () => {
      dataDir = await mkdtemp(join(tmpdir(), 'custos-management-'));
      const config = readConfig({ PORT: '0', CUSTOS_MANAGEMENT_PORT: '0', HOST: '127.0.0.1', CUSTOS_DEV_AUTH: 'true', CUSTOS_DATA_DIR: dataDir, LOG_LEVEL: 'silent' });
      custos = await startCustos({ title: 'management-spec', processName: 'management-spec', config, contexts: [], modules: () => [] });
    }, 120_000);

    afterAll(async () => {
      await custos?.stop();
      await rm(dataDir, { recursive: true, force: true });
    }, 60_000);

    it('serves /health, /health/live and /metrics there, without a token', async () => {
      expect(custos.managementUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(custos.managementUrl).not.toBe(custos.url);
      const health = await fetch(`${custos.managementUrl}/health`);
      expect([health.status, await health.json()]).toEqual([200, { status: 'ok', checks: { store: { ok: true, detail: 'embedded (pglite)' }, bus: expect.objectContaining({ ok: true }) } }]);
      const live = await fetch(`${custos.managementUrl}/health/live`);
      expect([live.status, await live.json()]).toEqual([200, { status: 'ok' }]);
      const metrics = await fetch(`${custos.managementUrl}/metrics`);
      expect(metrics.status).toBe(200);
      expect(metrics.headers.get('content-type')).toMatch(/^text\/plain/);
      expect(await metrics.text()).toContain('process_cpu_user_seconds_total');
    });

    it('serves the API reference there: the document of the public port and the Swagger UI', async () => {
      const document = await fetch(`${custos.managementUrl}/docs-json`);
      expect(document.status).toBe(200);
      const paths = Object.keys(((await document.json()) as { paths: Record<string, unknown> }).paths);
      expect(paths).toEqual(expect.arrayContaining(['/admin/tokens', '/dev/token']));
      expect(paths).not.toContain('/health');
      const page = await fetch(`${custos.managementUrl}/docs`);
      expect([page.status, page.headers.get('content-type')]).toEqual([200, 'text/html; charset=utf-8']);
      expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
      const html = await page.text();
      for (const asset of [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1])) {
        const answer = await fetch(`${custos.managementUrl}${asset}`);
        expect([asset, answer.status]).toEqual([asset, 200]);
      }
      expect(await (await fetch(`${custos.managementUrl}/docs/custos-init.js`)).text()).toContain("url: '/docs-json'");
      // Only the UI's own assets: not swagger-ui-dist's other files, nor anything outside it.
      for (const path of ['/docs/package.json', '/docs/index.html', '/docs/../package.json', '/docs/%2e%2e/package.json']) {
        expect([path, (await fetch(`${custos.managementUrl}${path}`)).status]).toEqual([path, 404]);
      }
    });

    it('serves nothing of the API there', async () => {
      for (const path of ['/admin/tokens', '/dev/token', '/']) {
        const response = await fetch(`${custos.managementUrl}${path}`, { headers: { authorization: 'Bearer x' } });
        expect([path, response.status, response.headers.get('content-type')]).toEqual([path, 404, expect.stringMatching(/^application\/problem\+json/)]);
      }
      const posted = await fetch(`${custos.managementUrl}/dev/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"sub":"a","roles":["custos:admin"]}' });
      expect(posted.status).toBe(404);
    });

    it('leaves them out of the public port, which serves the API as before', async () => {
      for (const path of ['/health', '/health/live', '/metrics', '/docs', '/docs-json']) expect([path, (await fetch(`${custos.url}${path}`)).status]).toEqual([path, 404]);
      expect((await fetch(`${custos.url}/admin/tokens`)).status).toBe(401);
    });
  });
});
