import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { eventually } from '@custos/platform/testing';
import { CustosClient } from './support/client';
import { startProcess, type RunningProcess } from './support/processes';

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
/** A secret no log may hold: random, so that finding it in the output can only mean it was written there. */
const secret = (label: string) => `${label}${randomBytes(18).toString('base64url')}`;

/**
 * No token, secret or SCIM password reaches a log: the all-in-one runs at LOG_LEVEL=trace (every
 * line it can write), is sent credentials and secrets every way a client could send them (bearer
 * tokens good and bad, connector tokens live, revoked and malformed, tokens in the query, cookies,
 * SCIM passwords in POST, PUT and PATCH, secrets in bodies that fail validation or parsing), and
 * its whole output (stdout and stderr) is searched for each of them.
 */
describe('log redaction: no credential or secret in any log line', () => {
  let custos: RunningProcess;
  let client: CustosClient;
  let dataDir: string;
  const run = randomUUID().slice(0, 8);
  /** Every value that must not appear in the output. */
  const secrets = new Map<string, string>();
  const keep = (what: string, value: string): string => {
    // Long enough that finding it in the output cannot be chance.
    expect([what, value.length >= 16]).toEqual([what, true]);
    secrets.set(what, value);
    return value;
  };
  const signatureOf = (jwt: string) => jwt.split('.')[2];

  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'custos-redaction-'));
    custos = await startProcess(
      'custos',
      'apps/custos/src/main.ts',
      { CUSTOS_DATA_DIR: dataDir, CUSTOS_DEV_AUTH: 'true', LOG_LEVEL: 'trace', CUSTOS_AUTH_FAILURE_LIMIT: '0', DATABASE_URL: undefined, NATS_URL: undefined, CUSTOS_OIDC_ISSUER: undefined, CUSTOS_NAMESPACE: undefined },
      120_000,
    );
    client = new CustosClient(
      () => custos.url,
      async (claims) => {
        const response = await fetch(`${custos.url}/dev/token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(claims) });
        return ((await response.json()) as { access_token: string }).access_token;
      },
    );
  }, 180_000);

  afterAll(async () => {
    await custos?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  }, 60_000);

  it('writes none of the credentials and secrets it was sent, while logging every request', async () => {
    const call = client.call.bind(client);
    const admin = await client.token(`admin-${run}`, ['custos:admin']);
    keep('an admin bearer token (its signature)', signatureOf(admin));
    keep('an admin bearer token (whole)', admin);
    expect((await call('GET', '/catalog/entitlements', { token: admin })).status).toBe(200);

    // A refused JWT: valid shape, a signature of its own.
    const [header, payload] = admin.split('.');
    const forged = `${header}.${payload}.${keep('a refused token (its signature)', randomBytes(64).toString('base64url'))}`;
    expect((await call('GET', '/catalog/entitlements', { token: forged })).status).toBe(401);
    expect((await call('GET', '/catalog/entitlements', { token: keep('an opaque bearer token', secret('opaque-')) })).status).toBe(401);
    const basic = keep('a Basic credential', Buffer.from(`admin:${secret('pw-')}`).toString('base64'));
    expect((await call('GET', '/catalog/entitlements', { headers: { authorization: `Basic ${basic}` } })).status).toBe(401);

    // Tokens in the query string and a cookie.
    for (const name of ['access_token', 'token', 'id_token', 'refresh_token', 'code', 'client_secret', 'password']) {
      const value = keep(`a ${name} query parameter`, secret(`${name}-`));
      expect((await call('GET', `/catalog/entitlements?${name}=${value}`, { token: admin })).status).toBeLessThan(500);
    }
    expect((await call('GET', '/catalog/entitlements', { token: admin, headers: { cookie: `session=${keep('a cookie', secret('cookie-'))}` } })).status).toBe(200);

    // A connector token: made, used, revoked, used again; and a malformed one.
    const created = await call('POST', '/admin/tokens', { token: admin, body: { name: `redaction-${run}` } });
    expect(created.status).toBe(201);
    const connector = created.body.token as string;
    keep('a connector token', connector);
    keep('a connector token (its secret part)', connector.slice('cst_0123456789abcdef_'.length));
    const joiner = (token: string, n: number, extra: Record<string, unknown> = {}) =>
      call('POST', '/hr/events', {
        token,
        body: { eventId: `${run}-${n}`, system: 'workday', type: 'joiner', employee: { employeeId: `LR${run}${n}`, givenName: 'Log', familyName: 'Redaction', email: `lr-${run}-${n}@example.com`, employmentType: 'employee', ...extra } },
      });
    expect((await joiner(connector, 1)).status).toBe(202);
    expect((await call('DELETE', `/admin/tokens/${created.body.id}`, { token: admin })).status).toBe(200);
    expect((await joiner(connector, 2)).status).toBe(401);
    expect((await joiner(`cst_0123456789abcdef_${keep('a made-up connector secret', randomBytes(32).toString('base64url').slice(0, 43))}`, 3)).status).toBe(401);

    // SCIM passwords, through a connector token of its own.
    const idp = (await call('POST', '/admin/tokens', { token: admin, body: { name: `idp-${run}` } })).body.token as string;
    keep('the identity provider\'s connector token', idp);
    const scim = (method: string, url: string, body: unknown) => call(method, `/scim/v2${url}`, { token: idp, body, headers: { 'content-type': 'application/scim+json' } });
    const posted = await scim('POST', '/Users', { schemas: [USER], userName: `lr-${run}@example.com`, externalId: `LRS${run}`, name: { givenName: 'Scim', familyName: 'User' }, emails: [{ value: `lr-${run}@example.com`, primary: true }], password: keep('a SCIM password (POST)', secret('Pw1!')), active: true });
    expect(posted.status).toBe(201);
    const id = posted.body.id as string;
    expect(posted.text).not.toContain(secrets.get('a SCIM password (POST)'));
    const put = await scim('PUT', `/Users/${id}`, { schemas: [USER], userName: `lr-${run}@example.com`, externalId: `LRS${run}`, name: { givenName: 'Scim', familyName: 'User' }, password: keep('a SCIM password (PUT)', secret('Pw2!')), active: true });
    expect(put.status).toBe(200);
    const patched = await scim('PATCH', `/Users/${id}`, { schemas: [PATCH], Operations: [{ op: 'replace', path: 'password', value: keep('a SCIM password (PATCH)', secret('Pw3!')) }] });
    expect(patched.status).toBeLessThan(500);
    const badScim = await scim('POST', '/Users', { schemas: [USER], userName: 42, password: keep('a SCIM password in a refused body', secret('Pw4!')) });
    expect(badScim.status).toBe(400);
    expect((await scim('GET', `/Users/${id}`, undefined)).text).not.toMatch(/Pw[1-3]!/);

    // Secrets in bodies that are refused: by validation, by the parser, by the edge.
    const hr = await client.token(`hr-${run}`, ['custos:hr']);
    keep('an HR bearer token (its signature)', signatureOf(hr));
    expect((await joiner(hr, 4, { password: keep('a password in a refused HR event', secret('hr-pw-')) })).status).toBe(400);
    expect((await call('POST', '/admin/tokens', { token: admin, body: { name: `x-${run}`, token: keep('a token field in a refused body', secret('tok-')) } })).status).toBe(400);
    expect((await call('POST', '/admin/tokens', { token: admin, body: `{"name": "${keep('a secret in a body that is not JSON', secret('broken-'))}` })).status).toBe(400);
    expect((await call('POST', '/dev/token', { body: { sub: 'x', client_secret: keep('a client_secret in a refused body', secret('cs-')) } })).status).toBe(400);

    // Every request above was logged (so the search below looks at a real log), by its caller, never its credential.
    const output = () => custos.output();
    await eventually(async () => output().includes(`"principal":"connector:${created.body.id}"`), { what: 'the connector\'s requests in the log', timeoutMs: 10_000 });
    const lines = output()
      .split('\n')
      .filter((line) => line.includes('"msg":"request"'));
    expect(lines.length).toBeGreaterThanOrEqual(25);
    expect(output()).toContain(`"principal":"admin-${run}"`);
    // The lines of the requests that carried secrets are there, with the secrets replaced.
    expect(output()).toContain('/catalog/entitlements?access_token=[redacted]');
    expect(output()).toContain('/catalog/entitlements?client_secret=[redacted]');
    expect(lines.filter((line) => line.includes('"status":401')).length).toBeGreaterThanOrEqual(5);

    const found = [...secrets].filter(([, value]) => output().includes(value)).map(([what]) => what);
    expect(found).toEqual([]);
  });
});
