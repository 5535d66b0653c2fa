import { eventually } from '@custos/platform/testing';
import { Deployment, startDistributed } from './support/deployment';
import { EntitlementApi } from './support/entitlement-api';

const CACHE_TTL_SEC = 3;
/** Every service takes identities from the email claim; the services other than identity ask it over the bus and remember answers CACHE_TTL_SEC. */
const EMAIL_IDENTITIES = { CUSTOS_OIDC_IDENTITY_FROM: 'email', CUSTOS_OIDC_EMAIL_CACHE_TTL: String(CACHE_TTL_SEC) };

/**
 * CUSTOS_OIDC_IDENTITY_FROM=email across the four services over NATS and PostgreSQL: the identity
 * service maps a login's address in process, the entitlement and request services ask it
 * (rpc.identity.resolve-email) and remember the answer for CUSTOS_OIDC_EMAIL_CACHE_TTL. A leaver's
 * login is refused by every service within that time of the leave.
 */
describe('identities from the email claim, in the distributed deployment', () => {
  let deployment: Deployment;
  let api: EntitlementApi;

  beforeAll(async () => {
    deployment = await startDistributed('custos_email_identity', { identity: EMAIL_IDENTITIES, entitlement: EMAIL_IDENTITIES, request: EMAIL_IDENTITIES, audit: EMAIL_IDENTITIES });
    api = new EntitlementApi(deployment.client);
  }, 180_000);

  afterAll(async () => {
    await deployment?.stop();
  }, 60_000);

  it("lets a login carrying a hired employee's address act as that identity on every service, and refuses it on every service within the cache's lifetime after the leave", async () => {
    const address = `ada-${api.run}@example.com`;
    const ada = await api.hire('Ada', { email: address });
    const token = await deployment.client.tokenWithEmail(`idp-account-${api.run}`, address.toUpperCase());
    const get = (path: string) => deployment.client.call('GET', path, { token });
    const own = [`/identities/${ada}`, `/access/${ada}`, `/requests?requesterId=${ada}`];

    for (const path of own) {
      // The entitlement and request services learn of Ada from identity's events; the address maps at once.
      const answer = await eventually(() => get(path), { accept: (r) => r.status === 200, what: `${path} for Ada's login`, timeoutMs: 20_000, intervalMs: 200 });
      expect([path, answer.status]).toEqual([path, 200]);
    }
    expect((await get('/access/someone-else')).status).toBe(403);

    await api.leave('Ada');
    const left = Date.now();
    for (const path of own) {
      const refused = await eventually(() => get(path), { accept: (r) => r.status === 403, what: `${path} refused after Ada left`, timeoutMs: 20_000, intervalMs: 200 });
      expect([path, refused.body.type]).toEqual([path, 'urn:custos:problem:no-identity']);
    }
    // The identity service's view takes a moment to record the leave; the others' caches at most CACHE_TTL_SEC more.
    expect(Date.now() - left).toBeLessThan(CACHE_TTL_SEC * 1000 + 10_000);
  });

  it('refuses an address no identity has on every service, saying what to fix', async () => {
    const token = await deployment.client.tokenWithEmail(`idp-stranger-${api.run}`, `stranger-${api.run}@example.com`);
    for (const path of ['/identities', '/catalog/entitlements', `/requests?requesterId=x`]) {
      const refused = await deployment.client.call('GET', path, { token });
      expect([path, refused.status, refused.body.type]).toEqual([path, 403, 'urn:custos:problem:no-identity']);
      expect(refused.body.detail).toMatch(/no identity has this address: HR must record it/);
    }
  });
});
