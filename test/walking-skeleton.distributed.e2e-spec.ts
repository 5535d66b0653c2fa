import { createTestDatabase, randomNamespace, startNats, startOidcIssuer, TestIssuer } from '@custos/platform/testing';
import { CustosClient } from './support/client';
import { RunningProcess, startProcess } from './support/processes';
import { walkingSkeleton } from './support/walking-skeleton';

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
  ['/audit', 'audit'],
];

describe('walking skeleton: four services as separate processes over NATS and PostgreSQL', () => {
  const services: Record<string, RunningProcess> = {};
  let issuer: TestIssuer;
  let dropDatabase: () => Promise<void>;
  let client: CustosClient;

  beforeAll(async () => {
    const [nats, db, oidc] = await Promise.all([startNats(), createTestDatabase('custos_e2e'), startOidcIssuer()]);
    issuer = oidc;
    dropDatabase = db.drop;
    const env = { DATABASE_URL: db.url, NATS_URL: nats.url, CUSTOS_NAMESPACE: randomNamespace(), CUSTOS_OIDC_ISSUER: issuer.issuer, CUSTOS_DEV_AUTH: undefined };
    // Started one by one: on two cores, four cold starts at once only slow each other down.
    for (const context of ['identity', 'entitlement', 'request', 'audit']) {
      services[context] = await startProcess(`${context}-service`, `apps/${context}-service/src/main.ts`, env);
    }
    client = new CustosClient(
      (path) => {
        const route = ROUTES.find(([prefix]) => path.startsWith(prefix));
        return services[route ? route[1] : 'identity'].url;
      },
      (claims) => issuer.token(claims),
    );
  });

  afterAll(async () => {
    await Promise.all(Object.values(services).map((s) => s.stop()));
    await issuer?.stop();
    await dropDatabase?.();
  });

  walkingSkeleton(() => client);

  it('serves each context only from its own service', async () => {
    const admin = await issuer.token({ sub: 'admin-1', roles: ['custos:admin'] });
    const wrongService = await fetch(`${services.identity.url}/catalog/entitlements`, { headers: { authorization: `Bearer ${admin}` } });
    expect(wrongService.status).toBe(404);
  });
});
