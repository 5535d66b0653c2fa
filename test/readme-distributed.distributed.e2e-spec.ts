import { ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { createTestDatabase, eventually, randomNamespace, removeNamespaceStreamsAt, startNats, type TestDatabase } from '@custos/platform/testing';
import { freePort, startProcess, type RunningProcess } from './support/processes';

const ROOT = path.resolve(__dirname, '..');
const CONTEXTS = ['identity', 'entitlement', 'request', 'audit'] as const;

/**
 * README's "Run it distributed" as a newcomer follows it on one machine: the four services with
 * the development issuer sharing one key file (CUSTOS_DEV_AUTH_KEY_FILE), the gateway in front of
 * them (node deploy/dev-gateway.js, routing as deploy/Caddyfile does), one token from the
 * gateway's POST /dev/token, and with that one token the joiner flow end to end: an entitlement, a
 * role, a birthright rule, an HR joiner, the access the rule gives, the check, the audit log.
 */
describe('README, Run it distributed: four services, the dev gateway, one token, the joiner flow', () => {
  let db: TestDatabase;
  let natsUrl: string;
  const namespace = randomNamespace();
  const keyDir = mkdtempSync(path.join(tmpdir(), 'custos-dev-key-'));
  const services: RunningProcess[] = [];
  let gateway: ChildProcess | undefined;
  let gatewayOutput = '';
  let url: string;

  beforeAll(async () => {
    [db, { url: natsUrl }] = await Promise.all([createTestDatabase('custos_readme'), startNats()]);
    const env = {
      DATABASE_URL: db.url,
      NATS_URL: natsUrl,
      CUSTOS_NAMESPACE: namespace,
      CUSTOS_DEV_AUTH: 'true',
      CUSTOS_DEV_AUTH_KEY_FILE: path.join(keyDir, 'custos-dev-key.json'),
      CUSTOS_OIDC_ISSUER: undefined,
    };
    // One by one, as on two cores four cold starts at once only slow each other down.
    for (const context of CONTEXTS) services.push(await startProcess(`${context}-service`, `apps/${context}-service/src/main.ts`, env, 120_000));

    const port = await freePort();
    const upstreams = Object.fromEntries(CONTEXTS.map((context, i) => [`UPSTREAM_${context.toUpperCase()}`, new URL(services[i].url).port]));
    gateway = spawn(process.execPath, ['deploy/dev-gateway.js'], { cwd: ROOT, env: { ...process.env, GATEWAY_PORT: String(port), ...upstreams }, stdio: ['ignore', 'pipe', 'pipe'] });
    gateway.stdout?.on('data', (chunk) => (gatewayOutput += chunk));
    gateway.stderr?.on('data', (chunk) => (gatewayOutput += chunk));
    url = `http://127.0.0.1:${port}`;
    await eventually(async () => gatewayOutput.includes('gateway listening'), { what: `the gateway to listen:\n${gatewayOutput}`, timeoutMs: 20_000 });
  }, 600_000);

  afterAll(async () => {
    gateway?.kill('SIGTERM');
    await Promise.all(services.map((s) => s.stop()));
    await db?.drop();
    if (natsUrl) await removeNamespaceStreamsAt(natsUrl, namespace);
    rmSync(keyDir, { recursive: true, force: true });
  }, 120_000);

  const call = async (method: string, route: string, token: string, body?: unknown) => {
    const response = await fetch(`${url}${route}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : undefined };
  };

  it('routes each prefix to its service as the Caddyfile says', () => {
    for (const line of ['/hr* /scim* /identities* -> identity', '/targets* /vault* /access/*/credentials/* -> privileged', '/catalog* /roles* /birthright-rules* /sod-policies* /access* /check* -> entitlement', '/requests* /approvals* /break-glass* /reviews* -> request', '/audit* -> audit', '* -> identity']) {
      expect(gatewayOutput).toContain(line);
    }
  });

  it('completes the joiner flow with one token from one service, accepted by all four', async () => {
    const run = randomUUID().slice(0, 8);
    const issued = await fetch(`${url}/dev/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ sub: 'ops-1', roles: ['custos:admin', 'custos:hr', 'custos:auditor'] }),
    });
    expect(issued.status).toBe(200);
    const token = ((await issued.json()) as { access_token: string }).access_token;

    const entitlement = `github:repo-read-${run}`;
    expect((await call('POST', '/catalog/entitlements', token, { key: entitlement, application: 'github', name: 'Read repositories', privileged: false, risk: 'low' })).status).toBe(201);
    expect((await call('POST', '/roles', token, { key: `eng-base-${run}`, name: 'Engineering base', entitlements: [entitlement] })).status).toBe(201);
    expect((await call('POST', '/birthright-rules', token, { key: `engineering-${run}`, name: 'Engineering', when: { department: `Engineering-${run}` }, roles: [`eng-base-${run}`] })).status).toBe(201);

    const joiner = await call('POST', '/hr/events', token, {
      eventId: `wd-${run}`,
      system: 'workday',
      type: 'joiner',
      employee: { employeeId: `E${run}`, givenName: 'Ada', familyName: 'Lovelace', email: `ada-${run}@example.com`, department: `Engineering-${run}`, employmentType: 'employee' },
    });
    expect([joiner.status, joiner.body?.status]).toEqual([202, 'applied']);
    const ada = joiner.body.identityId as string;

    // The entitlement service hears of the joiner over NATS and grants the birthright role.
    const access = await eventually(() => call('GET', `/access/${ada}`, token), {
      accept: (r) => r.status === 200 && (r.body.grants as Array<{ entitlement: string }>).some((g) => g.entitlement === entitlement),
      what: 'the birthright grant',
      timeoutMs: 60_000,
      intervalMs: 250,
    });
    expect(access.body.grants).toEqual([expect.objectContaining({ entitlement, source: 'birthright' })]);
    expect((await call('GET', `/check?identityId=${ada}&entitlement=${encodeURIComponent(entitlement)}`, token)).body).toMatchObject({ allowed: true });
    const audit = await eventually(() => call('GET', `/audit/events?identityId=${ada}`, token), {
      accept: (r) => r.status === 200 && (r.body.items as unknown[]).length >= 2,
      what: 'the audit log of Ada',
      timeoutMs: 60_000,
      intervalMs: 250,
    });
    expect((audit.body.items as Array<{ type: string }>).map((e) => e.type)).toEqual(expect.arrayContaining([expect.stringContaining('IdentityHired')]));
  });

  it('answers 502 with a problem when a service is down', async () => {
    const audit = services[CONTEXTS.indexOf('audit')];
    await audit.stop();
    const response = await fetch(`${url}/audit/events`);
    expect([response.status, response.headers.get('content-type')]).toEqual([502, 'application/problem+json']);
  });
});
