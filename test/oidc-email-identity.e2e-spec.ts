import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { eventually } from '@custos/platform/testing';
import { decodeJwt } from 'jose';
import { CustosClient } from './support/client';
import { EntitlementApi } from './support/entitlement-api';
import { signingKey, startOidcProvider, type RunningOidcProvider } from './support/oidc-provider';
import { RunningProcess, startProcess } from './support/processes';

/** Machine clients of the provider and the roles their tokens carry (oidc-provider.mjs). */
const CLIENT_OF_ROLE: Record<string, string> = { 'custos:admin': 'custos-admin', 'custos:hr': 'custos-hr', 'custos:auditor': 'custos-auditor' };

/**
 * CUSTOS_OIDC_IDENTITY_FROM=email against a real provider (oidc-provider): a person's login whose
 * subject is the provider's own account id, not a Custos identity id, acts as the identity HR
 * recorded with the token's address; before the hire and after the leave the same login is a 403
 * `no-identity`; machine clients (client credentials, no address) keep their subject and roles.
 */
describe('identities from the email claim, against a real OpenID Connect provider', () => {
  let provider: RunningOidcProvider;
  let custos: RunningProcess;
  let client: CustosClient;
  let api: EntitlementApi;
  let dataDir: string;

  const get = (path: string, token: string) => client.call('GET', path, { token });

  beforeAll(async () => {
    provider = await startOidcProvider([await signingKey('key-1')]);
    dataDir = mkdtempSync(path.join(tmpdir(), 'custos-oidc-email-'));
    custos = await startProcess(
      'custos',
      'apps/custos/src/main.ts',
      {
        CUSTOS_DATA_DIR: dataDir,
        DATABASE_URL: undefined,
        NATS_URL: undefined,
        CUSTOS_NAMESPACE: undefined,
        CUSTOS_DEV_AUTH: undefined,
        CUSTOS_OIDC_ISSUER: provider.issuer,
        CUSTOS_OIDC_AUDIENCE: 'custos',
        CUSTOS_OIDC_ROLES_CLAIM: 'realm_access.roles',
        CUSTOS_OIDC_IDENTITY_FROM: 'email',
      },
      120_000,
    );
    client = new CustosClient(
      () => custos.url,
      async ({ sub, roles = [] }) => {
        const machine = roles.length === 1 ? CLIENT_OF_ROLE[roles[0]] : undefined;
        if (!machine) throw new Error(`no machine client for ${sub}`);
        return provider.clientCredentials(machine);
      },
    );
    api = new EntitlementApi(client);
  }, 180_000);

  afterAll(async () => {
    await custos?.stop();
    await provider?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  }, 60_000);

  it("acts as the hired employee whose address the login carries, for the employee's own routes, and refuses the login once they have left", async () => {
    const address = `ada-${api.run}@example.com`;
    // The provider's account id for Ada: nothing Custos knows.
    const login = () => provider.login({ sub: `idp-account-${api.run}`, email: address.toUpperCase() });

    const beforeHire = await get('/requests', await login());
    expect([beforeHire.status, beforeHire.body.type]).toEqual([403, 'urn:custos:problem:no-identity']);
    expect(beforeHire.body.detail).toMatch(/no identity has this address: HR must record it/);
    expect(beforeHire.body.detail).toContain(address);

    const ada = await api.hire('Ada', { email: address });
    const bob = await api.hire('Bob', {});
    const token = await login();
    expect(decodeJwt(token)).toMatchObject({ sub: `idp-account-${api.run}`, email: address.toUpperCase(), email_verified: true });

    // The refusal before the hire is remembered a moment (a second in the identity context's own process).
    const self = await eventually(() => get(`/identities/${ada}`, token), { accept: (r) => r.status === 200, what: "Ada's login taken as Ada after her hire", timeoutMs: 20_000, intervalMs: 200 });
    expect([self.status, self.body.identityId, self.body.email]).toEqual([200, ada, address]);
    expect((await get(`/access/${ada}`, token)).status).toBe(200);
    expect((await get(`/requests?requesterId=${ada}`, token)).status).toBe(200);
    expect((await get('/approvals', token)).status).toBe(200);
    // Ada, and only Ada: another identity's access and the directory stay closed to her.
    expect((await get(`/access/${bob}`, token)).status).toBe(403);
    expect((await get(`/identities/${bob}`, token)).status).toBe(403);

    await api.leave('Ada');
    const refused = await eventually(() => get(`/identities/${ada}`, token), { accept: (r) => r.status === 403, what: "Ada's login refused after she left", timeoutMs: 20_000, intervalMs: 200 });
    expect(refused.body).toMatchObject({ type: 'urn:custos:problem:no-identity', detail: expect.stringMatching(/not active/) });
    const after = await get(`/requests?requesterId=${ada}`, token);
    expect([after.status, after.body.type]).toEqual([403, 'urn:custos:problem:no-identity']);
  });

  it('leaves a machine client without an address its own subject and roles', async () => {
    const admin = await provider.clientCredentials('custos-admin');
    expect(decodeJwt(admin)).not.toHaveProperty('email');
    expect((await get('/catalog/entitlements', admin)).status).toBe(200);
  });
});
