import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { Client } from 'pg';
import { eventually } from './eventually';
import { randomNamespace, startNats } from './nats';
import { startOidcIssuer } from './oidc-issuer';
import { createTestDatabase, startPostgres } from './postgres';

async function withClient<T>(url: string, work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

async function databaseExists(name: string): Promise<boolean> {
  const { adminUrl } = await startPostgres();
  return withClient(adminUrl, async (c) => (await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])).rowCount === 1);
}

const nameOf = (url: string) => decodeURIComponent(new URL(url).pathname.slice(1));

describe('createTestDatabase', () => {
  it('gives a reachable, empty database, a distinct one on each call, and drop() removes it', async () => {
    const [a, b] = await Promise.all([createTestDatabase('custos_testing'), createTestDatabase('custos_testing')]);
    try {
      expect(a.url).not.toBe(b.url);
      expect(nameOf(a.url)).toMatch(/^custos_testing_[0-9a-f]{12}$/);

      for (const db of [a, b]) {
        await withClient(db.url, async (c) => {
          expect((await c.query('SELECT current_database() AS name')).rows[0].name).toBe(nameOf(db.url));
          const { rows } = await c.query(`SELECT count(*)::int AS n FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')`);
          expect(rows[0].n).toBe(0);
        });
      }
      // Distinct databases: what one holds the other does not see.
      await withClient(a.url, (c) => c.query('CREATE TABLE only_in_a (n int)'));
      await withClient(b.url, async (c) => expect((await c.query(`SELECT to_regclass('only_in_a') AS t`)).rows[0].t).toBeNull());

      // drop() works even while a connection is still open on the database.
      const lingering = new Client({ connectionString: a.url });
      lingering.on('error', () => undefined);
      await lingering.connect();
      await a.drop();
      expect(await databaseExists(nameOf(a.url))).toBe(false);
      await lingering.end().catch(() => undefined);
    } finally {
      await Promise.all([a.drop(), b.drop()]);
    }
    expect(await databaseExists(nameOf(b.url))).toBe(false);
  }, 60_000);

  it('refuses a prefix that is not a short lower-case identifier', async () => {
    await expect(createTestDatabase('Bad-Prefix')).rejects.toThrow(RangeError);
    await expect(createTestDatabase('x'.repeat(42))).rejects.toThrow(RangeError);
  });
});

describe('startNats', () => {
  afterAll(async () => {
    // Stops the server this file started (nothing for NATS_URL).
    await (await startNats()).stop();
  }, 30_000);

  it('gives a NATS server with JetStream enabled, the same one for every call in the process', async () => {
    const nats = await startNats();
    expect(nats.url).toMatch(/^nats:\/\/[^:]+:\d+$/);
    expect(await startNats()).toBe(nats);

    const nc = await connect({ servers: nats.url });
    try {
      const jsm = await jetstreamManager(nc);
      const info = await jsm.getAccountInfo();
      expect(info.limits).toBeDefined();
      expect(typeof info.streams).toBe('number');
    } finally {
      await nc.close();
    }
  }, 60_000);

  it('randomNamespace gives a fresh token usable as a subject prefix', () => {
    const names = new Set(Array.from({ length: 50 }, () => randomNamespace()));
    expect(names.size).toBe(50);
    for (const name of names) expect(name).toMatch(/^t[0-9a-f]{8}$/);
  });
});

describe('startOidcIssuer', () => {
  it('serves discovery and a JWKS, and its tokens verify against that JWKS with the issuer and audience', async () => {
    const issuer = await startOidcIssuer();
    try {
      const discovery = (await (await fetch(`${issuer.issuer}/.well-known/openid-configuration`)).json()) as { jwks_uri: string };
      expect(discovery).toEqual({ issuer: issuer.issuer, jwks_uri: `${issuer.issuer}/jwks`, id_token_signing_alg_values_supported: ['RS256'] });

      const jwks = (await (await fetch(discovery.jwks_uri)).json()) as { keys: Array<Record<string, unknown>> };
      expect(jwks.keys).toEqual([expect.objectContaining({ kty: 'RSA', kid: 'test-key', alg: 'RS256', use: 'sig' })]);
      expect(jwks.keys[0].d).toBeUndefined();
      expect((await fetch(`${issuer.issuer}/nope`)).status).toBe(404);

      const token = await issuer.token({ sub: 'user-1', roles: ['custos:admin'], amr: ['pwd', 'mfa'], email: 'ada@example.com' }, 'custos');
      expect(decodeProtectedHeader(token)).toEqual({ alg: 'RS256', kid: 'test-key' });
      const keySet = createRemoteJWKSet(new URL(discovery.jwks_uri));
      const { payload } = await jwtVerify(token, keySet, { issuer: issuer.issuer, audience: 'custos' });
      expect(payload).toMatchObject({ sub: 'user-1', roles: ['custos:admin'], amr: ['pwd', 'mfa'], email: 'ada@example.com', iss: issuer.issuer, aud: 'custos' });
      expect(payload.exp! - payload.iat!).toBe(3600);

      // Defaults, and no audience unless asked for.
      const plain = await issuer.token({ sub: 'user-2' });
      const verified = await jwtVerify(plain, keySet, { issuer: issuer.issuer });
      expect(verified.payload).toMatchObject({ sub: 'user-2', roles: [], amr: ['pwd'] });
      expect(verified.payload.aud).toBeUndefined();
      expect(verified.payload.email).toBeUndefined();

      // Verification means something: the wrong audience and a changed payload are refused.
      await expect(jwtVerify(token, keySet, { issuer: issuer.issuer, audience: 'other' })).rejects.toThrow();
      const [header, , signature] = token.split('.');
      const forged = `${header}.${Buffer.from(JSON.stringify({ sub: 'admin', iss: issuer.issuer })).toString('base64url')}.${signature}`;
      await expect(jwtVerify(forged, keySet, { issuer: issuer.issuer })).rejects.toThrow();
    } finally {
      await issuer.stop();
    }
    await expect(fetch(`${issuer.issuer}/jwks`)).rejects.toThrow();
  });

  it('gives each issuer its own key: one issuer does not verify another one tokens', async () => {
    const [a, b] = await Promise.all([startOidcIssuer(), startOidcIssuer()]);
    try {
      expect(a.issuer).not.toBe(b.issuer);
      const token = await a.token({ sub: 'x' });
      await expect(jwtVerify(token, createRemoteJWKSet(new URL(`${b.issuer}/jwks`)))).rejects.toThrow();
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });
});

describe('eventually', () => {
  it('polls until the value is accepted and returns that value', async () => {
    let calls = 0;
    const value = await eventually(async () => (++calls >= 3 ? { calls } : null), { intervalMs: 5 });
    expect(value).toEqual({ calls: 3 });
    expect(calls).toBe(3);
  });

  it('by default accepts any value but undefined, null and false (0 and "" are values)', async () => {
    expect(await eventually(async () => 0, { intervalMs: 5 })).toBe(0);
    expect(await eventually(async () => '', { intervalMs: 5 })).toBe('');
    const seen = [undefined, null, false, 'done'];
    expect(await eventually(async () => seen.shift(), { intervalMs: 5 })).toBe('done');
  });

  it('uses accept when given, and keeps polling through a probe that throws', async () => {
    let n = 0;
    const value = await eventually(
      async () => {
        n += 1;
        if (n === 1) throw new Error('not ready');
        return n;
      },
      { accept: (v) => v >= 4, intervalMs: 5 },
    );
    expect(value).toBe(4);
  });

  it('times out with a message naming what it waited for and the last value and error', async () => {
    const started = Date.now();
    await expect(eventually(async () => ({ state: 'pending' }), { timeoutMs: 100, intervalMs: 10, accept: () => false, what: 'the order to ship' })).rejects.toThrow(
      'timed out waiting for the order to ship; last value: {"state":"pending"}',
    );
    expect(Date.now() - started).toBeGreaterThanOrEqual(100);

    await expect(
      eventually(
        async () => {
          throw new Error('connection refused');
        },
        { timeoutMs: 50, intervalMs: 10 },
      ),
    ).rejects.toThrow(/timed out waiting for a condition; last value: undefined; last error: Error: connection refused/);
  });
});
