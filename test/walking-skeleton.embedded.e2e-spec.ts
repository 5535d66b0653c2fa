import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { CustosClient } from './support/client';
import { RunningProcess, startProcess } from './support/processes';
import { walkingSkeleton } from './support/walking-skeleton';

describe('walking skeleton: npm start (embedded store and bus, one process)', () => {
  let custos: RunningProcess;
  let dataDir: string;
  let client: CustosClient;

  const embeddedEnv = () => ({ CUSTOS_DATA_DIR: dataDir, CUSTOS_DEV_AUTH: 'true', DATABASE_URL: undefined, NATS_URL: undefined, CUSTOS_OIDC_ISSUER: undefined, CUSTOS_NAMESPACE: undefined });

  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'custos-embedded-'));
    const started = Date.now();
    custos = await startProcess('custos', 'apps/custos/src/main.ts', embeddedEnv(), 10_000);
    // The issue asks for /health within 10 s of `npm start` on a machine with only Node.
    expect(Date.now() - started).toBeLessThan(10_000);
    client = new CustosClient(
      () => custos.url,
      async (claims) => {
        const response = await fetch(`${custos.url}/dev/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(claims) });
        return ((await response.json()) as { access_token: string }).access_token;
      },
    );
  });

  afterAll(async () => {
    await custos?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  walkingSkeleton(() => client);

  it('keeps its data across a restart: the embedded store is durable and projections rebuild by replay', async () => {
    const admin = await client.token('admin-1', ['custos:admin']);
    const before = await client.call('GET', '/catalog/entitlements', { token: admin });
    expect(before.body.items.length).toBeGreaterThan(0);
    await custos.stop();
    custos = await startProcess('custos', 'apps/custos/src/main.ts', embeddedEnv(), 10_000);
    const after = await client.call('GET', '/catalog/entitlements', { token: await client.token('admin-1', ['custos:admin']) });
    expect(after.body.items).toEqual(before.body.items);
  });
});
