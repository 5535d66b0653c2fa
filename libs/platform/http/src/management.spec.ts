import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readConfig } from '@custos/platform/runtime';
import { startCustos, type RunningCustos } from './server';

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

    it('serves nothing of the API there', async () => {
      for (const path of ['/admin/tokens', '/dev/token', '/docs', '/docs-json', '/']) {
        const response = await fetch(`${custos.managementUrl}${path}`, { headers: { authorization: 'Bearer x' } });
        expect([path, response.status, response.headers.get('content-type')]).toEqual([path, 404, expect.stringMatching(/^application\/problem\+json/)]);
      }
      const posted = await fetch(`${custos.managementUrl}/dev/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"sub":"a","roles":["custos:admin"]}' });
      expect(posted.status).toBe(404);
    });

    it('leaves them out of the public port and its OpenAPI document, which serves the API as before', async () => {
      for (const path of ['/health', '/health/live', '/metrics']) expect([path, (await fetch(`${custos.url}${path}`)).status]).toEqual([path, 404]);
      const document = (await (await fetch(`${custos.url}/docs-json`)).json()) as { paths: Record<string, unknown> };
      expect(Object.keys(document.paths)).not.toEqual(expect.arrayContaining(['/health']));
      expect(Object.keys(document.paths)).toEqual(expect.arrayContaining(['/admin/tokens', '/dev/token']));
      expect((await fetch(`${custos.url}/admin/tokens`)).status).toBe(401);
    });
  });
});
