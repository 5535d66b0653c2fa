import { Deployment, startDistributed } from './support/deployment';
import { walkingSkeleton } from './support/walking-skeleton';

describe('walking skeleton: four services as separate processes over NATS and PostgreSQL', () => {
  let deployment: Deployment;

  beforeAll(async () => {
    deployment = await startDistributed();
  });

  afterAll(() => deployment?.stop());

  walkingSkeleton(() => deployment.client);

  it('serves each context only from its own service', async () => {
    const admin = await deployment.client.token('admin-1', ['custos:admin']);
    const wrongService = await fetch(`${deployment.services.identity.url}/catalog/entitlements`, { headers: { authorization: `Bearer ${admin}` } });
    expect(wrongService.status).toBe(404);
  });
});
