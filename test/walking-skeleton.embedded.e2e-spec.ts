import { startEmbedded } from './support/deployment';
import { walkingSkeleton } from './support/walking-skeleton';

describe('walking skeleton: npm start (embedded store and bus, one process)', () => {
  let deployment: Awaited<ReturnType<typeof startEmbedded>>;

  beforeAll(async () => {
    deployment = await startEmbedded();
  });

  afterAll(() => deployment?.stop());

  walkingSkeleton(() => deployment.client);

  it('keeps its data across a restart: the embedded store is durable and projections rebuild by replay', async () => {
    const admin = await deployment.client.token('admin-1', ['custos:admin']);
    const before = await deployment.client.call('GET', '/catalog/entitlements', { token: admin });
    expect(before.body.items.length).toBeGreaterThan(0);
    await deployment.restart();
    const after = await deployment.client.call('GET', '/catalog/entitlements', { token: await deployment.client.token('admin-1', ['custos:admin']) });
    expect(after.body.items).toEqual(before.body.items);
  });
});
