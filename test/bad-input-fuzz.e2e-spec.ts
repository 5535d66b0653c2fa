import { seededRandom } from '@custos/platform/testing';
import { startEmbedded } from './support/deployment';

/**
 * Bounded fuzzing of every route of the OpenAPI document with inputs that no route may accept:
 * each must be answered with a 4xx, never a 5xx or a hang, and none may write anything (the audit
 * log, which records every event of every context, has the same length before and after).
 */

interface Operation {
  method: string;
  path: string;
  pathParams: string[];
  query: Array<{ name: string; type: string }>;
  bodySchema?: Schema;
  scim: boolean;
}

interface Schema {
  $ref?: string;
  type?: string;
  properties?: Record<string, Schema>;
  items?: Schema;
  enum?: unknown[];
  example?: unknown;
  allOf?: Schema[];
}

interface Sent {
  what: string;
  method: string;
  url: string;
  status: number;
  text: string;
}

/** Text no route may accept in any string: PostgreSQL cannot store NUL; a lone surrogate is not Unicode. */
const BAD_TEXT = ['a\u0000b', '\u0000', '\uD800x', 'x\uDFFF'];
/** Path segments that must never reach a 5xx. */
const BAD_SEGMENTS = ['a%00b', '%00', '%ED%A0%80', '%E0%A4%A', 'x'.repeat(4000), '..%2F..%2Fetc%2Fpasswd', '__proto__', 'constructor', '99999999999999999999999'];
/** Query values that no parameter of that type accepts. */
const BAD_QUERY: Record<string, string[]> = {
  string: ['a%00b', '%00'],
  number: ['99999999999999999999999', '-1', '1e400', 'NaN', 'abc', '1.5', '%00'],
  integer: ['99999999999999999999999', '-1', '1e400', 'NaN', 'abc', '1.5', '%00'],
};
const BAD_DURATIONS = ['P300000Y', 'PT99999999999999999999H', 'P99999999999999999999D', 'P1Y'.repeat(40)];
const SCIM_BASES: Record<string, unknown> = {
  'POST /scim/v2/Users': { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'fuzz-user', name: { givenName: 'F', familyName: 'Z' }, emails: [{ value: 'f@example.com', primary: true }], externalId: 'FZ-1' },
  'PUT /scim/v2/Users/{id}': { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'fuzz-user', name: { givenName: 'F', familyName: 'Z' }, active: true },
  'PATCH /scim/v2/Users/{id}': { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'replace', path: 'title', value: 'Fuzzer' }] },
  'POST /scim/v2/Groups': { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'fuzz-group', members: [] },
  'PUT /scim/v2/Groups/{id}': { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'fuzz-group', members: [] },
  'PATCH /scim/v2/Groups/{id}': { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'replace', path: 'displayName', value: 'x' }] },
};

function nested(depth: number): unknown {
  let value: unknown = 'leaf';
  for (let i = 0; i < depth; i += 1) value = { a: value };
  return value;
}

describe('bad input on every documented route: a 4xx, never a 5xx, and nothing written', () => {
  let deployment: Awaited<ReturnType<typeof startEmbedded>>;
  let token: string;
  let document: { paths: Record<string, Record<string, { parameters?: Array<{ name: string; in: string; schema?: Schema }>; requestBody?: { content: Record<string, { schema?: Schema }> } }>>; components: { schemas: Record<string, Schema> } };
  const existing: Record<string, string> = {};

  beforeAll(async () => {
    deployment = await startEmbedded();
    const { client } = deployment;
    token = await client.token('fuzzer', ['custos:admin', 'custos:auditor', 'custos:hr', 'custos:checker'], ['pwd', 'mfa']);
    const must = async (method: string, path: string, body: unknown) => {
      const response = await client.call(method, path, { token, body, headers: method === 'POST' && path.startsWith('/scim') ? { 'content-type': 'application/scim+json' } : {} });
      if (response.status >= 300) throw new Error(`${method} ${path}: ${response.status} ${response.text}`);
      return response.body;
    };
    // Real resources, so that routes with path parameters reach their handlers too.
    await must('POST', '/catalog/entitlements', { key: 'fz:read', application: 'fz', name: 'Fuzz read', privileged: false, risk: 'low' });
    await must('POST', '/catalog/entitlements', { key: 'fz:write', application: 'fz', name: 'Fuzz write', privileged: true, risk: 'high' });
    await must('POST', '/roles', { key: 'fz-role', name: 'Fuzz role', entitlements: ['fz:read'] });
    await must('POST', '/birthright-rules', { key: 'fz-rule', name: 'Fuzz rule', when: { department: 'Fuzz' }, roles: ['fz-role'] });
    await must('POST', '/sod-policies', { key: 'fz-sod', name: 'Fuzz SoD', conflicting: [['fz:read'], ['fz:write']] });
    const hired = await must('POST', '/hr/events', { eventId: 'fz-1', system: 'fuzz', type: 'joiner', employee: { employeeId: 'FZ1', givenName: 'Fu', familyName: 'Zz', email: 'fz1@example.com', department: 'Fuzz', employmentType: 'employee' } });
    const user = await must('POST', '/scim/v2/Users', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'fz2@example.com', name: { givenName: 'F', familyName: 'Two' }, emails: [{ value: 'fz2@example.com', primary: true }] });
    const group = await must('POST', '/scim/v2/Groups', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'fz-group' });
    Object.assign(existing, { identityId: hired.identityId, key: 'fz:read', id: user.id, groupId: group.id });
    document = (await client.call('GET', '/docs-json')).body;
  }, 180_000);

  afterAll(() => deployment?.stop());

  function operations(): Operation[] {
    const found: Operation[] = [];
    for (const [path, methods] of Object.entries(document.paths)) {
      for (const [method, op] of Object.entries(methods)) {
        const parameters = op.parameters ?? [];
        const content = op.requestBody?.content ?? {};
        found.push({
          method: method.toUpperCase(),
          path,
          pathParams: parameters.filter((p) => p.in === 'path').map((p) => p.name),
          query: parameters.filter((p) => p.in === 'query').map((p) => ({ name: p.name, type: p.schema?.type ?? 'string' })),
          bodySchema: content['application/json']?.schema ?? (Object.keys(content).length > 0 ? {} : undefined),
          scim: path.startsWith('/scim/'),
        });
      }
    }
    return found;
  }

  function resolve(schema: Schema | undefined): Schema {
    if (!schema) return {};
    if (schema.$ref) return resolve(document.components.schemas[schema.$ref.split('/').pop()!]);
    if (schema.allOf?.length) return resolve(schema.allOf[0]);
    return schema;
  }

  /** A plausible body from the schema (valid or not, it does not matter: every mutation is bad). */
  function sample(schema: Schema | undefined, depth = 0): unknown {
    const s = resolve(schema);
    if (s.example !== undefined) return s.example;
    if (s.enum?.length) return s.enum[0];
    if (s.properties && depth < 4) return Object.fromEntries(Object.entries(s.properties).map(([name, child]) => [name, sample(child, depth + 1)]));
    switch (s.type) {
      case 'array':
        return [sample(s.items, depth + 1)];
      case 'number':
      case 'integer':
        return 1;
      case 'boolean':
        return false;
      case 'object':
        return {};
      default:
        return 'fz';
    }
  }

  /** Every string-valued path in `value` (`employee.email`), to put bad text in. */
  function stringPaths(value: unknown, prefix: string[] = []): string[][] {
    if (typeof value === 'string') return [prefix];
    if (typeof value !== 'object' || value === null) return [];
    return Object.entries(value).flatMap(([key, child]) => stringPaths(child, [...prefix, key]));
  }

  function withValue(base: unknown, at: string[], value: unknown): unknown {
    const copy = structuredClone(base) as Record<string, unknown>;
    let target = copy as Record<string, unknown>;
    for (const key of at.slice(0, -1)) target = target[key] as Record<string, unknown>;
    target[at[at.length - 1]] = value;
    return copy;
  }

  function fill(path: string, op: Operation, bad?: { name: string; segment: string }): string {
    return path.replace(/\{([^}]+)\}/g, (_, name: string) => {
      if (bad?.name === name) return bad.segment;
      const value = name === 'id' && op.path.startsWith('/scim/v2/Groups') ? existing.groupId : existing[name];
      if (name === 'id' && op.path.startsWith('/scim/v2/Schemas')) return 'urn:ietf:params:scim:schemas:core:2.0:User';
      if (name === 'id' && op.path.startsWith('/scim/v2/ResourceTypes')) return 'User';
      return encodeURIComponent(value ?? 'fz');
    });
  }

  /** The bad requests for one operation, bounded (about 10-60 each). */
  function badRequests(op: Operation, random: () => number): Array<{ what: string; url: string; body?: string; headers?: Record<string, string> }> {
    const requests: Array<{ what: string; url: string; body?: string; headers?: Record<string, string> }> = [];
    const goodQuery = op.query
      .filter((q) => ['identityId', 'entitlement'].includes(q.name))
      .map((q) => `${q.name}=${encodeURIComponent(q.name === 'identityId' ? existing.identityId : existing.key)}`);
    const neutralBody = op.bodySchema ? '{}' : undefined;
    for (const name of op.pathParams) {
      for (const segment of BAD_SEGMENTS) requests.push({ what: `path ${name}=${segment.slice(0, 20)}`, url: fill(op.path, op, { name, segment }), body: neutralBody });
    }
    for (const q of op.query) {
      for (const value of BAD_QUERY[q.type] ?? BAD_QUERY.string) {
        const others = goodQuery.filter((g) => !g.startsWith(`${q.name}=`));
        requests.push({ what: `query ${q.name}=${value}`, url: `${fill(op.path, op)}?${[...others, `${q.name}=${value}`].join('&')}`, body: neutralBody });
      }
      requests.push({ what: `query ${q.name} twice`, url: `${fill(op.path, op)}?${[...goodQuery, `${q.name}=%00`, `${q.name}=%00`].join('&')}` });
    }
    if (op.bodySchema === undefined) return requests;
    const url = fill(op.path, op);
    const base = (SCIM_BASES[`${op.method} ${op.path}`] ?? sample(op.bodySchema)) as Record<string, unknown>;
    for (const text of ['{', '{"a":1,}', '\u0000', 'null', '[]', '"text"', '1e400', '{"a":' + '['.repeat(3000) + ']'.repeat(3000) + '}']) {
      requests.push({ what: `body ${JSON.stringify(text.slice(0, 12))}`, url, body: text });
    }
    requests.push({ what: 'body over the size limit', url, body: JSON.stringify({ ...base, pad: 'x'.repeat(1_100_000) }) });
    requests.push({ what: 'body __proto__', url, body: JSON.stringify(base).replace(/^\{/, '{"__proto__":{"roles":["custos:admin"]},') });
    requests.push({ what: 'body constructor.prototype', url, body: JSON.stringify(base).replace(/^\{/, '{"constructor":{"prototype":{"roles":["custos:admin"]}},') });
    requests.push({ what: 'Idempotency-Key too long', url, body: JSON.stringify({ ...base, zzBad: '\u0000' }), headers: { 'idempotency-key': 'k'.repeat(300) } });
    const paths = stringPaths(base);
    for (const at of paths) {
      const bad = BAD_TEXT[Math.floor(random() * BAD_TEXT.length)];
      requests.push({ what: `body ${at.join('.')} bad text`, url, body: JSON.stringify(withValue(base, at, bad)) });
      requests.push({ what: `body ${at.join('.')} nested 40 deep`, url, body: JSON.stringify(withValue(base, at, nested(40))) });
      if (/duration/i.test(at[at.length - 1])) {
        for (const duration of BAD_DURATIONS) requests.push({ what: `body ${at.join('.')}=${duration.slice(0, 20)}`, url, body: JSON.stringify(withValue(base, at, duration)) });
      }
    }
    for (const name of ['duration', 'maxDuration']) {
      if (name in base || !op.path.match(/grant|entitlements/)) continue;
      for (const duration of BAD_DURATIONS) requests.push({ what: `body ${name}=${duration.slice(0, 20)} added`, url, body: JSON.stringify({ ...base, [name]: duration, zzBad: '\u0000' }) });
    }
    return requests;
  }

  async function auditLength(): Promise<number> {
    const verified = await deployment.client.call('GET', '/audit/verify', { token });
    expect(verified.status).toBe(200);
    return verified.body.events as number;
  }

  it('answers every bad request with a 4xx and writes nothing', async () => {
    const base = deployment.services.custos.url;
    // Earlier writes reach the audit log asynchronously: wait until its length is steady.
    let before = await auditLength();
    for (let i = 0; i < 20; i += 1) {
      await new Promise((r) => setTimeout(r, 250));
      const now = await auditLength();
      if (now === before) break;
      before = now;
    }
    const random = seededRandom(20261205);
    const failures: Sent[] = [];
    let sent = 0;
    const ops = operations();
    expect(ops.length).toBeGreaterThanOrEqual(45);
    for (const op of ops) {
      for (const request of badRequests(op, random)) {
        const scimType = op.scim && request.body !== undefined ? { 'content-type': 'application/scim+json' } : {};
        let response: Response;
        try {
          response = await fetch(`${base}${request.url}`, {
            method: op.method,
            headers: { authorization: `Bearer ${token}`, ...(request.body !== undefined ? { 'content-type': 'application/json' } : {}), ...scimType, ...request.headers },
            body: request.body,
            signal: AbortSignal.timeout(15_000),
          });
        } catch (error) {
          // A body over the limit is refused (413) from its Content-Length, before it is read: on a
          // busy machine the server may close the connection while the client is still writing it.
          // That is a refusal too, not a crash; the next request shows the server is still up.
          const code = ((error as Error).cause as NodeJS.ErrnoException | undefined)?.code;
          if (request.what === 'body over the size limit' && (code === 'EPIPE' || code === 'ECONNRESET')) {
            sent += 1;
            continue;
          }
          throw error;
        }
        const text = await response.text();
        sent += 1;
        // A bad input is a 4xx; GET routes that ignore an odd query parameter may answer 200 (they write nothing).
        const acceptable = response.status >= 400 && response.status < 500;
        const harmlessRead = op.method === 'GET' && response.status === 200;
        if (!acceptable && !harmlessRead) failures.push({ what: request.what, method: op.method, url: request.url.slice(0, 120), status: response.status, text: text.slice(0, 200) });
      }
    }
    await new Promise((r) => setTimeout(r, 1_000));
    const after = await auditLength();
    if (failures.length > 0) console.log(failures);
    expect({ sent: sent > 500, failures }).toEqual({ sent: true, failures: [] });
    expect(after).toBe(before);
  }, 600_000);
});
