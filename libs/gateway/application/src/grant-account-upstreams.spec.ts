import { ConfiguredUpstreams } from './configured-upstreams';
import { GrantAccountUpstreams, NoGrantAccount, type GrantAccounts } from './grant-account-upstreams';
import { UnknownTarget } from './ports';

/** Grant accounts as the privileged context would keep them: registered targets and the accounts of grants. */
class RegisteredAccounts implements GrantAccounts {
  targets = new Map([['pg-prod', { host: 'db.internal', port: 5432, database: 'app', ssl: false as const }]]);
  accounts = new Map([['g2', { user: 'custos_0123456789ab', password: 'fresh' }]]);

  async target(key: string) {
    return this.targets.get(key);
  }

  async sessionLogin(_target: string, grantIds: string[]) {
    return grantIds.map((g) => this.accounts.get(g)).find((a) => a !== undefined);
  }
}

describe('upstreams through the grants own accounts', () => {
  const upstreams = new GrantAccountUpstreams(new RegisteredAccounts(), ConfiguredUpstreams.fromEnv(JSON.stringify({ 'pg-legacy': 'postgres://shared:pw@old:5432/db' })));

  it("logs in with the account of one of the session's grants on a registered target", async () => {
    expect(await upstreams.resolve({ identityId: 'ada', target: 'pg-prod', grantIds: ['g1', 'g2'] })).toEqual({
      host: 'db.internal',
      port: 5432,
      database: 'app',
      ssl: false,
      user: 'custos_0123456789ab',
      password: 'fresh',
    });
  });

  it('refuses when no grant has an account yet, and falls back to targets given by URL', async () => {
    await expect(upstreams.resolve({ identityId: 'ada', target: 'pg-prod', grantIds: ['g1'] })).rejects.toBeInstanceOf(NoGrantAccount);
    expect(await upstreams.resolve({ identityId: 'ada', target: 'pg-legacy', grantIds: ['g1'] })).toMatchObject({ host: 'old', user: 'shared' });
    expect(await upstreams.knows('pg-prod')).toBe(true);
    expect(await upstreams.knows('pg-legacy')).toBe(true);
    expect(await upstreams.knows('pg-none')).toBe(false);
    await expect(new GrantAccountUpstreams(new RegisteredAccounts()).resolve({ identityId: 'ada', target: 'pg-none', grantIds: [] })).rejects.toBeInstanceOf(UnknownTarget);
  });
});
