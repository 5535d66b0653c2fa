import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { startEmbedded } from './support/deployment';

interface Operation {
  security?: Array<Record<string, string[]>>;
  parameters?: Array<{ name: string; in: string; required?: boolean }>;
  responses: Record<string, { content?: Record<string, { schema?: Schema }> }>;
}
interface Schema {
  $ref?: string;
  type?: string;
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  allOf?: Schema[];
  nullable?: boolean;
  additionalProperties?: boolean | Schema;
}
interface OpenApi {
  security?: Array<Record<string, string[]>>;
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Schema> };
}

const METHODS = ['get', 'post', 'put', 'patch', 'delete'];
const WRITES = ['post', 'put', 'patch', 'delete'];

function operations(document: OpenApi): Array<{ route: string; method: string; path: string; operation: Operation }> {
  return Object.entries(document.paths).flatMap(([p, item]) =>
    METHODS.filter((m) => item[m]).map((m) => ({ route: `${m.toUpperCase()} ${p}`, method: m.toUpperCase(), path: p, operation: item[m] })),
  );
}

/** The routes Nest serves that the document does not have. */
function undocumented(routes: string[], document: OpenApi): string[] {
  const documented = new Set(operations(document).map((o) => o.route));
  return routes.filter((r) => !documented.has(r));
}

/** Where a body breaks its schema: a property the schema does not name, a required one missing, a wrong type. */
function mismatches(value: unknown, schema: Schema, document: OpenApi, at = '$'): string[] {
  if (schema.$ref) return mismatches(value, document.components.schemas[schema.$ref.split('/').pop()!], document, at);
  if (schema.allOf) return schema.allOf.flatMap((s) => mismatches(value, s, document, at));
  if (value === null) return schema.nullable ? [] : [`${at} is null`];
  if (schema.type === 'array') return Array.isArray(value) ? value.flatMap((v, i) => (schema.items ? mismatches(v, schema.items, document, `${at}[${i}]`) : [])) : [`${at} is not an array`];
  if (schema.type === 'string' || schema.type === 'number' || schema.type === 'boolean') return typeof value === schema.type ? [] : [`${at} is not a ${schema.type}`];
  if (schema.properties) {
    if (typeof value !== 'object') return [`${at} is not an object`];
    const body = value as Record<string, unknown>;
    return [
      ...(schema.required ?? []).filter((k) => !(k in body)).map((k) => `${at}.${k} is missing`),
      ...Object.entries(body).flatMap(([k, v]) =>
        schema.properties![k] ? mismatches(v, schema.properties![k], document, `${at}.${k}`) : schema.additionalProperties ? [] : [`${at}.${k} is not documented`],
      ),
    ];
  }
  return [];
}

describe('the OpenAPI document tells the whole truth (npm start)', () => {
  let deployment: Awaited<ReturnType<typeof startEmbedded>>;
  let served: OpenApi;
  let generated: { document: OpenApi; routes: string[] };

  beforeAll(async () => {
    deployment = await startEmbedded();
    served = (await (await fetch(`${deployment.services.custos.url}/docs-json`)).json()) as OpenApi;
    // The routes of the all-in-one's controllers, read from Nest's routing metadata in a child
    // process: end-to-end tests talk to the services and do not import their modules.
    const root = path.resolve(__dirname, '..');
    generated = JSON.parse(execFileSync(process.execPath, ['-r', '@swc-node/register', 'tools/openapi/document.ts'], { cwd: root, maxBuffer: 64 * 1024 * 1024 }).toString());
  });

  afterAll(() => deployment?.stop());

  it('is the document that npm run lint checks (tools/openapi builds it without a store)', () => {
    expect(served).toEqual(generated.document);
  });

  it('documents every route that Nest serves', () => {
    expect(generated.routes.length).toBeGreaterThanOrEqual(50);
    expect(undocumented(generated.routes, served)).toEqual([]);
    // The comparison sees a route that goes missing from the document.
    const { ['/roles']: _roles, ...paths } = served.paths;
    expect(undocumented(generated.routes, { ...served, paths })).toEqual(['GET /roles', 'POST /roles']);
  });

  it('serves every documented route, and asks for a token exactly where it documents bearer security', async () => {
    const wrong: string[] = [];
    for (const { route, method, path: p, operation } of operations(served)) {
      const response = await fetch(`${deployment.services.custos.url}${p.replace(/\{[^}]+\}/g, 'x')}`, { method, redirect: 'manual' });
      await response.arrayBuffer();
      const bearer = (operation.security ?? served.security ?? []).some((s) => 'bearer' in s);
      if (response.status === 404 || response.status === 405) wrong.push(`${route}: ${response.status}, not served`);
      else if ((response.status === 401) !== bearer) wrong.push(`${route}: ${response.status} without a token, documented ${bearer ? 'bearer' : 'public'}`);
    }
    expect(wrong).toEqual([]);
  });

  it('answers 404 or 405 where nothing is documented: the probe above tells a served route from one that is not', async () => {
    for (const [method, p, status] of [['GET', '/nope', 404], ['DELETE', '/health/live', 405], ['GET', '/catalog/nope/x', 404]] as const) {
      expect((await fetch(`${deployment.services.custos.url}${p}`, { method })).status).toBe(status);
    }
  });

  it('documents a success answer on every route, a 401 wherever a token is needed, no header as required, and Idempotency-Key on every write', () => {
    const wrong: string[] = [];
    for (const { route, method, operation } of operations(served)) {
      const statuses = Object.keys(operation.responses);
      const bearer = (operation.security ?? served.security ?? []).some((s) => 'bearer' in s);
      if (bearer && !statuses.includes('401')) wrong.push(`${route}: no 401`);
      if (!statuses.some((s) => s.startsWith('2'))) wrong.push(`${route}: no success answer`);
      const required = (operation.parameters ?? []).filter((p) => p.in === 'header' && p.required).map((p) => p.name);
      if (required.length > 0) wrong.push(`${route}: requires headers ${required.join(', ')}`);
      // A write whose answer holds a secret shown once (a new connector token) takes none: its answer is never kept.
      const secretAnswer = (operation as unknown as Record<string, unknown>)['x-answers-a-secret'] === true;
      if (WRITES.includes(method.toLowerCase()) && !secretAnswer && !(operation.parameters ?? []).some((p) => p.in === 'header' && p.name === 'Idempotency-Key')) wrong.push(`${route}: no Idempotency-Key`);
    }
    expect(wrong).toEqual([]);
    expect(served.components.schemas.ProblemDetails).toMatchObject({ required: ['type', 'title', 'status'], additionalProperties: true });
    expect(served.components.schemas.ScimError.properties!.status.type).toBe('string');
  });

  it('describes what the routes really answer', async () => {
    const { client } = deployment;
    const admin = await client.token('admin-1', ['custos:admin'], ['pwd', 'mfa']);
    const hr = await client.token('hr-bot', ['custos:hr']);
    const auditor = await client.token('auditor-1', ['custos:auditor']);
    const answers: Array<[string, string, string, unknown]> = [
      ['POST', '/catalog/entitlements', admin, { key: 'github:repo-read', application: 'github', name: 'Read', privileged: false, risk: 'low' }],
      ['POST', '/catalog/entitlements', admin, { key: 'pay:approve', application: 'pay', name: 'Approve', privileged: false, risk: 'high' }],
      ['POST', '/roles', admin, { key: 'eng-base', name: 'Engineering base', entitlements: ['github:repo-read'] }],
      ['POST', '/birthright-rules', admin, { key: 'engineering', name: 'Engineering', when: { department: 'Engineering' }, roles: ['eng-base'] }],
      ['POST', '/sod-policies', admin, { key: 'pay', name: 'Pay', conflicting: [['github:repo-read'], ['pay:approve']], mode: 'approve' }],
      ['POST', '/hr/events', hr, { eventId: 'wd-1', system: 'workday', type: 'joiner', employee: { employeeId: 'E1', givenName: 'Ada', familyName: 'Lovelace', email: 'ada@example.com', department: 'Engineering', employmentType: 'employee' } }],
    ];
    const wrong: string[] = [];
    const check = async (method: string, route: string, token: string, body?: unknown) => {
      const response = await client.call(method, route.replace('{identityId}', ada), { token, body });
      const template = Object.keys(served.paths).find((p) => new RegExp(`^${p.replace(/\{[^}]+\}/g, '[^/]+')}$`).test(route.split('?')[0].replace('{identityId}', ada)))!;
      const documented = served.paths[template][method.toLowerCase()].responses[String(response.status)];
      const content = documented?.content?.['application/json'] ?? documented?.content?.['application/problem+json'];
      if (!content?.schema) wrong.push(`${method} ${route}: ${response.status} is not documented`);
      else wrong.push(...mismatches(response.body, content.schema, served).map((m) => `${method} ${route} ${response.status}: ${m}`));
      return response.body;
    };
    let ada = 'x';
    for (const [method, route, token, body] of answers) {
      const answer = (await check(method, route, token, body)) as { identityId?: string };
      if (answer.identityId) ada = answer.identityId;
    }
    // The entitlement context hears of the joiner a moment after the HR answer.
    for (let tries = 0; (await client.call('GET', `/access/${ada}`, { token: admin })).status === 404 && tries < 100; tries++) await new Promise((r) => setTimeout(r, 50));
    await check('POST', '/access/{identityId}/grant', admin, { entitlement: 'pay:approve', reason: 'r', exceptionReason: 'reviewed' });
    for (const route of ['/catalog/entitlements', '/catalog/entitlements/github:repo-read', '/roles', '/roles/eng-base', '/birthright-rules', '/sod-policies/pay', '/access/{identityId}', '/access/{identityId}/sod', '/check?identityId={identityId}&entitlement=pay:approve', '/catalog/entitlements/nope']) {
      await check('GET', route, admin);
    }
    for (const route of ['/identities', '/identities/{identityId}', '/identities/{identityId}/history']) await check('GET', route, hr);
    for (const route of ['/audit/events', '/audit/verify', '/audit/keys', '/audit/checkpoint', '/audit/checkpoints', '/audit/proof/inclusion?seq=1&treeSize=1', '/audit/proof/consistency?from=1&to=1', '/audit/proof/inclusion?seq=2&treeSize=1']) await check('GET', route, auditor);
    await check('GET', '/health', '');
    await check('POST', '/roles', admin, { key: 'eng-base', name: 'again', entitlements: [] });
    await check('POST', '/roles', admin, { name: 42 });
    expect(wrong).toEqual([]);
  });
});
