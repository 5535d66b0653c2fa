import { createPgliteDatabase, type SqlDatabase } from '@custos/platform/event-store';
import { CONNECTOR_ISSUER, ConnectorTokens, withConnectorTokens } from './connector-tokens';

describe('connector tokens', () => {
  let db: SqlDatabase;
  let now = new Date('2026-12-05T10:00:00Z');
  let tokens: ConnectorTokens;

  beforeAll(async () => {
    db = await createPgliteDatabase();
  }, 60_000);
  afterAll(() => db.close());
  beforeEach(() => {
    now = new Date('2026-12-05T10:00:00Z');
    tokens = new ConnectorTokens(db, () => now);
  });

  it('shows the value once, keeps only a hash, and names the caller connector:<id> with the token\'s roles', async () => {
    const created = await tokens.create({ name: 'workday', roles: ['custos:hr'], expiresAt: null }, 'admin-1');
    expect(created.token).toMatch(/^cst_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
    const { rows } = await db.query<Record<string, unknown>>(`SELECT * FROM http.connector_tokens WHERE id = $1`, [created.id]);
    expect(JSON.stringify(rows)).not.toContain(created.token.split('_')[2]);
    expect(await tokens.verify(created.token)).toEqual({ sub: `connector:${created.id}`, roles: ['custos:hr'], amr: [], issuer: CONNECTOR_ISSUER });
    expect((await tokens.list()).find((t) => t.id === created.id)).toMatchObject({ name: 'workday', createdBy: 'admin-1', revokedAt: null });
    expect(JSON.stringify(await tokens.list())).not.toContain(created.token);
  });

  it('refuses a wrong secret, an unknown id and a malformed token', async () => {
    const created = await tokens.create({ name: 'okta-scim', roles: ['custos:hr'], expiresAt: null }, 'admin-1');
    const wrongSecret = `${created.token.slice(0, -1)}${created.token.endsWith('A') ? 'B' : 'A'}`;
    await expect(tokens.verify(wrongSecret)).rejects.toThrow(/unknown connector token/);
    await expect(tokens.verify(`cst_0000000000000000_${'a'.repeat(43)}`)).rejects.toThrow(/unknown connector token/);
    await expect(tokens.verify('cst_nope')).rejects.toThrow(/malformed/);
  });

  it('refuses a revoked token at once, and an expired one', async () => {
    const revoked = await tokens.create({ name: 'old', roles: ['custos:hr'], expiresAt: null }, 'admin-1');
    await tokens.verify(revoked.token);
    expect(await tokens.revoke(revoked.id, 'admin-2')).toMatchObject({ id: revoked.id, revokedBy: 'admin-2' });
    await expect(tokens.verify(revoked.token)).rejects.toThrow(/revoked/);
    expect(await tokens.revoke('0000000000000000', 'admin-2')).toBeUndefined();

    const expiring = await tokens.create({ name: 'short', roles: ['custos:hr'], expiresAt: new Date('2026-12-05T11:00:00Z') }, 'admin-1');
    await tokens.verify(expiring.token);
    now = new Date('2026-12-05T11:00:01Z');
    await expect(tokens.verify(expiring.token)).rejects.toThrow(/expired/);
  });

  it('carries no role beyond the connector roles', async () => {
    await expect(tokens.create({ name: 'too-much', roles: ['custos:admin'], expiresAt: null }, 'admin-1')).rejects.toThrow(/only custos:hr/);
  });

  it('sends connector tokens to the store and every other token to the JWT verifier', async () => {
    const created = await tokens.create({ name: 'both', roles: ['custos:hr'], expiresAt: null }, 'admin-1');
    const jwt = { verify: jest.fn(async () => ({ sub: 'u1', roles: [], amr: [], issuer: 'x' })) };
    const verifier = withConnectorTokens(tokens, jwt);
    expect(await verifier.verify(created.token)).toMatchObject({ sub: `connector:${created.id}` });
    expect(await verifier.verify('eyJhbGciOi...')).toMatchObject({ sub: 'u1' });
    expect(jwt.verify).toHaveBeenCalledTimes(1);
  });
});
