import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { createTestDatabase, randomNamespace, removeNamespaceStreamsAt, startNats, startOidcIssuer } from '@custos/platform/testing';
import { CustosClient } from './client';
import { RunningProcess, startProcess } from './processes';

/** Which service serves a path, as the ingress routes it. */
const ROUTES: Array<[string, string]> = [
  ['/hr', 'identity'],
  ['/scim', 'identity'],
  ['/identities', 'identity'],
  ['/catalog', 'entitlement'],
  ['/roles', 'entitlement'],
  ['/birthright-rules', 'entitlement'],
  ['/sod-policies', 'entitlement'],
  ['/access', 'entitlement'],
  ['/check', 'entitlement'],
  ['/requests', 'request'],
  ['/approvals', 'request'],
  ['/break-glass', 'request'],
  ['/reviews', 'request'],
  ['/audit', 'audit'],
];

export interface Deployment {
  client: CustosClient;
  services: Record<string, RunningProcess>;
  /** Environment shared by the services (NATS namespace, database), for tests that talk to the bus. */
  env: Record<string, string | undefined>;
  stop(): Promise<void>;
}

/** The four services as separate processes over NATS and PostgreSQL, behind a prefix router, with a real OIDC issuer. */
export async function startDistributed(
  databasePrefix = 'custos_e2e',
  /** Variables for one service only (EVENT_STORE for the entitlement service, say). */
  serviceEnv: Record<string, Record<string, string | undefined>> = {},
  /** A NATS server of the test's own (permissioned, say) and the namespace its configuration is in, instead of the shared one; the test stops it. */
  own?: { natsUrl: string; namespace: string },
): Promise<Deployment> {
  const [nats, db, issuer] = await Promise.all([own ? { url: own.natsUrl } : startNats(), createTestDatabase(databasePrefix), startOidcIssuer()]);
  const env = { DATABASE_URL: db.url, NATS_URL: nats.url, CUSTOS_NAMESPACE: own?.namespace ?? randomNamespace(), CUSTOS_OIDC_ISSUER: issuer.issuer, CUSTOS_DEV_AUTH: undefined };
  const services: Record<string, RunningProcess> = {};
  const stop = async () => {
    await Promise.all(Object.values(services).map((s) => s.stop()));
    await issuer.stop();
    await db.drop();
    if (!own) await removeNamespaceStreamsAt(nats.url, env.CUSTOS_NAMESPACE);
  };
  try {
    // One by one: on two cores, four cold starts at once only slow each other down.
    for (const context of ['identity', 'entitlement', 'request', 'audit']) {
      services[context] = await startProcess(`${context}-service`, `apps/${context}-service/src/main.ts`, { ...env, ...serviceEnv[context] });
    }
  } catch (error) {
    await stop();
    throw error;
  }
  const client = new CustosClient(
    (p) => services[ROUTES.find(([prefix]) => p.startsWith(prefix))?.[1] ?? 'identity'].url,
    (claims) => issuer.token(claims),
  );
  return { client, services, env, stop };
}

/** `npm start`: the all-in-one process on the embedded store and bus, with the development issuer. */
export async function startEmbedded(readyTimeoutMs = 60_000): Promise<Deployment & { restart(): Promise<void>; startedInMs: number }> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'custos-embedded-'));
  const env = { CUSTOS_DATA_DIR: dataDir, CUSTOS_DEV_AUTH: 'true', DATABASE_URL: undefined, NATS_URL: undefined, CUSTOS_OIDC_ISSUER: undefined, CUSTOS_NAMESPACE: undefined };
  const services: Record<string, RunningProcess> = {};
  const started = Date.now();
  services.custos = await startProcess('custos', 'apps/custos/src/main.ts', env, readyTimeoutMs);
  const startedInMs = Date.now() - started;
  const client = new CustosClient(
    () => services.custos.url,
    async (claims) => {
      const response = await fetch(`${services.custos.url}/dev/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(claims) });
      return ((await response.json()) as { access_token: string }).access_token;
    },
  );
  return {
    client,
    services,
    env,
    startedInMs,
    async restart() {
      await services.custos.stop();
      services.custos = await startProcess('custos', 'apps/custos/src/main.ts', env, readyTimeoutMs);
    },
    async stop() {
      await services.custos?.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

