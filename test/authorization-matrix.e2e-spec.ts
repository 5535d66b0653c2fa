import { eventually } from '@custos/platform/testing';
import { startEmbedded } from './support/deployment';
import { EntitlementApi } from './support/entitlement-api';

/**
 * Who may call what: one row per operation of the served OpenAPI document, written by hand. A
 * served operation without a row fails, and so does a row naming an operation not served, so a
 * new route cannot go unexamined. Each row is called as: no token (401 unless public), a token
 * without roles (403 unless any identity may call it), each wrong role (403), each right role
 * (neither 401 nor 403: any other answer is the route's own business), and where the route is
 * about an identity's own items, the owner (allowed) and others on the owner's item (refused).
 */

type Role = 'custos:admin' | 'custos:hr' | 'custos:auditor' | 'custos:checker';
const ROLES: Role[] = ['custos:admin', 'custos:hr', 'custos:auditor', 'custos:checker'];

/** The resources the rows are about, made before the matrix runs. */
interface World {
  ada: string;
  mia: string;
  /** Requests Ada raised for herself, one per row that changes one; Mia, her manager, approves them. */
  requests: { read: string; approve: string; deny: string; cancel: string; revoke: string };
  seq: () => number;
}

interface Call {
  path: string;
  body?: unknown;
  headers?: Record<string, string>;
}

type Who =
  /** No token needed. */
  | { public: true }
  /** Any authenticated identity, no role needed. */
  | { any: true }
  /** Holders of one of these roles only. */
  | { roles: Role[] }
  /**
   * An identity on its own items (`owner` of the call: the identity itself, the requester, the
   * beneficiary, the approver); holders of `readers` on anyone's. Anyone else on the owner's item
   * is refused with `refused` (403 unless said).
   */
  | { owner: (w: World) => string; readers: Role[]; refused?: 403 | 404 };

interface Row {
  who: Who;
  /** The call, with bodies and parameters that pass validation where that is cheap. */
  call: (w: World) => Call;
}

const SCIM = { 'content-type': 'application/scim+json' };
const scimUser = (n: number) => ({ schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: `mx-scim-${n}@example.com`, name: { givenName: 'Sc', familyName: 'Im' }, emails: [{ value: `mx-scim-${n}@example.com`, primary: true }] });
const scimGroup = (n: number) => ({ schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: `mx-group-${n}`, members: [] });
const scimPatch = { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'replace', path: 'displayName', value: 'x' }] };
const fixed = (path: string, body?: unknown, headers?: Record<string, string>) => () => ({ path, body, headers });
const ADMIN: Who = { roles: ['custos:admin'] };
const HR_OR_ADMIN: Who = { roles: ['custos:hr', 'custos:admin'] };
const ACCESS_OF_ADA: Who = { owner: (w) => w.ada, readers: ['custos:admin', 'custos:auditor', 'custos:checker'] };
const IDENTITY_OF_ADA: Who = { owner: (w) => w.ada, readers: ['custos:admin', 'custos:hr', 'custos:auditor'] };

const MATRIX: Record<string, Row> = {
  // operations: public
  'GET /health': { who: { public: true }, call: fixed('/health') },
  'GET /health/live': { who: { public: true }, call: fixed('/health/live') },
  'GET /metrics': { who: { public: true }, call: fixed('/metrics') },
  'POST /dev/token': { who: { public: true }, call: fixed('/dev/token', { sub: 'mx-someone' }) },
  // admin: connector tokens
  'POST /admin/tokens': { who: ADMIN, call: (w) => ({ path: '/admin/tokens', body: { name: `mx-connector-${w.seq()}`, expiresIn: 'P1D' } }) },
  'GET /admin/tokens': { who: ADMIN, call: fixed('/admin/tokens') },
  'DELETE /admin/tokens/{id}': { who: ADMIN, call: fixed('/admin/tokens/0000000000000000') },
  'GET /docs': { who: { public: true }, call: fixed('/docs') },
  'GET /docs-json': { who: { public: true }, call: fixed('/docs-json') },

  // identity: HR intake, SCIM for HR systems and identity providers (and admins), the directory
  'POST /hr/events': {
    who: { roles: ['custos:hr'] },
    call: (w) => ({ path: '/hr/events', body: { eventId: `mx-${w.seq()}`, system: 'matrix', type: 'joiner', employee: { employeeId: `MX-${w.seq()}`, givenName: 'Mx', familyName: 'Hire', email: `mx-${w.seq()}@example.com`, employmentType: 'employee' } } }),
  },
  'GET /identities': { who: { roles: ['custos:admin', 'custos:hr', 'custos:auditor'] }, call: fixed('/identities') },
  'GET /identities/{identityId}': { who: IDENTITY_OF_ADA, call: (w) => ({ path: `/identities/${w.ada}` }) },
  'GET /identities/{identityId}/history': { who: IDENTITY_OF_ADA, call: (w) => ({ path: `/identities/${w.ada}/history` }) },
  'GET /scim/v2/Users': { who: HR_OR_ADMIN, call: fixed('/scim/v2/Users') },
  'POST /scim/v2/Users': { who: HR_OR_ADMIN, call: (w) => ({ path: '/scim/v2/Users', body: scimUser(w.seq()), headers: SCIM }) },
  'GET /scim/v2/Users/{id}': { who: HR_OR_ADMIN, call: fixed('/scim/v2/Users/mx-none') },
  'PUT /scim/v2/Users/{id}': { who: HR_OR_ADMIN, call: (w) => ({ path: '/scim/v2/Users/mx-none', body: scimUser(w.seq()), headers: SCIM }) },
  'PATCH /scim/v2/Users/{id}': { who: HR_OR_ADMIN, call: fixed('/scim/v2/Users/mx-none', { ...scimPatch, Operations: [{ op: 'replace', path: 'title', value: 'x' }] }, SCIM) },
  'DELETE /scim/v2/Users/{id}': { who: HR_OR_ADMIN, call: fixed('/scim/v2/Users/mx-none') },
  'GET /scim/v2/Groups': { who: HR_OR_ADMIN, call: fixed('/scim/v2/Groups') },
  'POST /scim/v2/Groups': { who: HR_OR_ADMIN, call: (w) => ({ path: '/scim/v2/Groups', body: scimGroup(w.seq()), headers: SCIM }) },
  'GET /scim/v2/Groups/{id}': { who: HR_OR_ADMIN, call: fixed('/scim/v2/Groups/mx-none') },
  'PUT /scim/v2/Groups/{id}': { who: HR_OR_ADMIN, call: (w) => ({ path: '/scim/v2/Groups/mx-none', body: scimGroup(w.seq()), headers: SCIM }) },
  'PATCH /scim/v2/Groups/{id}': { who: HR_OR_ADMIN, call: fixed('/scim/v2/Groups/mx-none', scimPatch, SCIM) },
  'DELETE /scim/v2/Groups/{id}': { who: HR_OR_ADMIN, call: fixed('/scim/v2/Groups/mx-none') },
  'GET /scim/v2/ServiceProviderConfig': { who: HR_OR_ADMIN, call: fixed('/scim/v2/ServiceProviderConfig') },
  'GET /scim/v2/Schemas': { who: HR_OR_ADMIN, call: fixed('/scim/v2/Schemas') },
  'GET /scim/v2/Schemas/{id}': { who: HR_OR_ADMIN, call: fixed('/scim/v2/Schemas/urn:ietf:params:scim:schemas:core:2.0:User') },
  'GET /scim/v2/ResourceTypes': { who: HR_OR_ADMIN, call: fixed('/scim/v2/ResourceTypes') },
  'GET /scim/v2/ResourceTypes/{id}': { who: HR_OR_ADMIN, call: fixed('/scim/v2/ResourceTypes/User') },

  // entitlement: the catalog is read by anyone signed in (to ask for access), written by admins
  'POST /catalog/entitlements': { who: ADMIN, call: (w) => ({ path: '/catalog/entitlements', body: { key: `mx:new-${w.seq()}`, application: 'mx', name: 'New', privileged: false, risk: 'low' } }) },
  'GET /catalog/entitlements': { who: { any: true }, call: fixed('/catalog/entitlements') },
  'GET /catalog/entitlements/{key}': { who: { any: true }, call: fixed('/catalog/entitlements/mx:read') },
  'PUT /catalog/entitlements/{key}': { who: ADMIN, call: fixed('/catalog/entitlements/mx:spare', { name: 'Spare, renamed' }) },
  'DELETE /catalog/entitlements/{key}': { who: ADMIN, call: fixed('/catalog/entitlements/mx:gone?reason=matrix') },
  'POST /roles': { who: ADMIN, call: (w) => ({ path: '/roles', body: { key: `mx-role-${w.seq()}`, name: 'Role', entitlements: ['mx:spare'] } }) },
  'GET /roles': { who: { any: true }, call: fixed('/roles') },
  'PUT /roles/{key}': { who: ADMIN, call: fixed('/roles/mx-role', { name: 'Role, renamed', entitlements: ['mx:spare'] }) },
  'GET /roles/{key}': { who: { any: true }, call: fixed('/roles/mx-role') },
  'POST /roles/{key}/preview': { who: ADMIN, call: fixed('/roles/mx-role/preview', { name: 'Role', entitlements: [] }) },
  'POST /birthright-rules': { who: ADMIN, call: (w) => ({ path: '/birthright-rules', body: { key: `mx-rule-${w.seq()}`, name: 'Rule', when: { department: 'Nowhere' }, roles: ['mx-role'] } }) },
  'GET /birthright-rules': { who: { any: true }, call: fixed('/birthright-rules') },
  'PUT /birthright-rules/{key}': { who: ADMIN, call: fixed('/birthright-rules/mx-rule', { name: 'Rule, renamed', when: { department: 'Nowhere' }, roles: ['mx-role'] }) },
  'GET /birthright-rules/{key}': { who: { any: true }, call: fixed('/birthright-rules/mx-rule') },
  'POST /birthright-rules/{key}/preview': { who: ADMIN, call: fixed('/birthright-rules/mx-rule/preview', { name: 'Rule', when: { department: 'Elsewhere' }, roles: ['mx-role'] }) },
  'POST /sod-policies': { who: ADMIN, call: (w) => ({ path: '/sod-policies', body: { key: `mx-sod-${w.seq()}`, name: 'SoD', conflicting: [['mx:spare'], ['mx:other']], mode: 'approve' } }) },
  'GET /sod-policies': { who: { any: true }, call: fixed('/sod-policies') },
  'GET /sod-policies/{key}': { who: { any: true }, call: fixed('/sod-policies/mx-sod') },

  // entitlement: an identity's own access; admins, auditors and policy-enforcement points anyone's
  'GET /access/{identityId}': { who: ACCESS_OF_ADA, call: (w) => ({ path: `/access/${w.ada}` }) },
  'GET /access/{identityId}/sod': { who: ACCESS_OF_ADA, call: (w) => ({ path: `/access/${w.ada}/sod` }) },
  'GET /check': { who: ACCESS_OF_ADA, call: (w) => ({ path: `/check?identityId=${w.ada}&entitlement=mx:read` }) },
  'POST /access/{identityId}/grant': { who: ADMIN, call: (w) => ({ path: `/access/${w.ada}/grant`, body: { entitlement: 'mx:spare', reason: 'matrix' } }) },
  'POST /access/{identityId}/revoke': { who: ADMIN, call: (w) => ({ path: `/access/${w.ada}/revoke`, body: { entitlement: 'mx:spare', reason: 'matrix' } }) },

  // request: anyone asks for themselves (admins for anyone); parties, approvers, admins and auditors read; approvers decide
  'POST /requests': { who: { owner: (w) => w.ada, readers: ['custos:admin'] }, call: (w) => ({ path: '/requests', body: { beneficiaryId: w.ada, entitlement: 'mx:read', justification: 'matrix' } }) },
  'GET /requests': { who: { owner: (w) => w.ada, readers: ['custos:admin', 'custos:auditor'] }, call: (w) => ({ path: `/requests?beneficiaryId=${w.ada}` }) },
  'GET /requests/{requestId}': { who: { owner: (w) => w.ada, readers: ['custos:admin', 'custos:auditor'] }, call: (w) => ({ path: `/requests/${w.requests.read}` }) },
  'POST /requests/{requestId}/approve': { who: { owner: (w) => w.mia, readers: [] }, call: (w) => ({ path: `/requests/${w.requests.approve}/approve`, body: { comment: 'ok' } }) },
  'POST /requests/{requestId}/deny': { who: { owner: (w) => w.mia, readers: [] }, call: (w) => ({ path: `/requests/${w.requests.deny}/deny`, body: { comment: 'no' } }) },
  'POST /requests/{requestId}/cancel': { who: { owner: (w) => w.ada, readers: [] }, call: (w) => ({ path: `/requests/${w.requests.cancel}/cancel`, body: { reason: 'matrix' } }) },
  'POST /requests/{requestId}/revoke': { who: { owner: (w) => w.ada, readers: [] }, call: (w) => ({ path: `/requests/${w.requests.revoke}/revoke`, body: { reason: 'matrix' } }) },
  'POST /requests/{requestId}/extend': { who: { owner: (w) => w.ada, readers: [] }, call: (w) => ({ path: `/requests/${w.requests.read}/extend`, body: { duration: 'PT1H', justification: 'matrix' } }) },
  'GET /approvals': { who: { any: true }, call: fixed('/approvals') },
  // request: any identity delegates its own approvals and lists its own delegations; only a delegation's approver or delegate ends it (404 for an unknown one)
  'POST /approvals/delegations': { who: { any: true }, call: (w) => ({ path: '/approvals/delegations', body: { delegateId: w.mia, until: '2099-01-01T00:00:00Z' } }) },
  'GET /approvals/delegations': { who: { any: true }, call: fixed('/approvals/delegations') },
  'DELETE /approvals/delegations/{delegationId}': { who: { any: true }, call: fixed('/approvals/delegations/mx-none') },
  // request: any identity breaks the glass for itself (mx:read is not marked breakGlass: 422); its user, reviewers, admins and auditors read a use, its reviewers review it (404 for an unknown one)
  'POST /break-glass': { who: { any: true }, call: fixed('/break-glass', { entitlement: 'mx:read', justification: 'matrix' }) },
  'GET /break-glass/{breakGlassId}': { who: { any: true }, call: fixed('/break-glass/mx-none') },
  'POST /break-glass/{breakGlassId}/review': { who: { any: true }, call: fixed('/break-glass/mx-none/review', { outcome: 'justified', comment: 'matrix' }) },

  // gateway sessions: any identity asks a session token for itself (no target is served here: 404) and lists or reads its own sessions (others': 404);
  // live monitoring for administrators, auditors and security approvers; terminate for security approvers only (holders of custos:security, an
  // entitlement, not a role: every role here is refused; allowed callers are in test/gateway-sessions.e2e-spec.ts)
  'POST /sessions/token': { who: { any: true }, call: fixed('/sessions/token', { target: 'mx-target' }) },
  'GET /sessions': { who: { any: true }, call: fixed('/sessions?limit=1') },
  'GET /sessions/{sessionId}': { who: { any: true }, call: fixed('/sessions/mx-none') },
  'GET /sessions/{sessionId}/stream': { who: { roles: ['custos:admin', 'custos:auditor'] }, call: fixed('/sessions/mx-none/stream') },
  'POST /sessions/{sessionId}/terminate': { who: { roles: [] }, call: fixed('/sessions/mx-none/terminate', { reason: 'matrix' }) },
  // privileged: targets and the vault's accounts are administered by admins; any identity may try a check-out (403 without a grant) or check-in (409 without a lease);
  // a just-in-time credential goes to its beneficiary only (the path's identity; no role reads another's)
  'POST /targets': { who: ADMIN, call: (w) => ({ path: '/targets', body: { key: `mx-target-${w.seq()}`, kind: 'postgresql', host: '127.0.0.1', port: 1, database: 'mx', adminCredential: { username: 'mx', password: 'mx-secret' } } }) },
  'GET /targets': { who: ADMIN, call: fixed('/targets') },
  'POST /vault/accounts': { who: ADMIN, call: (w) => ({ path: '/vault/accounts', body: { key: `mx-account-${w.seq()}`, target: 'mx-none', username: 'mx', entitlement: 'mx:read' } }) },
  'GET /vault/accounts/{key}': { who: { roles: ['custos:admin', 'custos:auditor'] }, call: fixed('/vault/accounts/mx-none') },
  'POST /vault/accounts/{key}/checkout': { who: { any: true }, call: fixed('/vault/accounts/mx-none/checkout', {}) },
  'POST /vault/accounts/{key}/checkin': { who: { any: true }, call: fixed('/vault/accounts/mx-none/checkin', {}) },
  'POST /vault/accounts/{key}/rotate': { who: ADMIN, call: fixed('/vault/accounts/mx-none/rotate', {}) },
  'GET /access/{identityId}/credentials/{grantId}': { who: { owner: (w) => w.ada, readers: [] }, call: (w) => ({ path: `/access/${w.ada}/credentials/mx-none` }) },

  // audit
  'GET /audit/events': { who: { roles: ['custos:auditor'] }, call: fixed('/audit/events?limit=1') },
  'GET /audit/verify': { who: { roles: ['custos:auditor'] }, call: fixed('/audit/verify') },
  'GET /audit/keys': { who: { roles: ['custos:auditor'] }, call: fixed('/audit/keys') },
  'GET /audit/checkpoint': { who: { roles: ['custos:auditor'] }, call: fixed('/audit/checkpoint') },
  'GET /audit/checkpoints': { who: { roles: ['custos:auditor'] }, call: fixed('/audit/checkpoints?limit=1') },
  'GET /audit/proof/inclusion': { who: { roles: ['custos:auditor'] }, call: fixed('/audit/proof/inclusion?seq=1&treeSize=1') },
  'GET /audit/proof/consistency': { who: { roles: ['custos:auditor'] }, call: fixed('/audit/proof/consistency?from=1&to=1') },
  'GET /audit/export': { who: { roles: ['custos:auditor'] }, call: fixed('/audit/export?from=1&to=1') },
  // a witness (with the auditor role) cosigns a checkpoint: 404 for a size never checkpointed
  'POST /audit/checkpoints/{treeSize}/cosignatures': { who: { roles: ['custos:auditor'] }, call: fixed('/audit/checkpoints/999999/cosignatures', { cosignature: '\u2014 w AAAA' }) },
  'GET /audit/access-at': { who: { roles: ['custos:auditor'] }, call: fixed('/audit/access-at?identityId=mx-none&at=2026-01-01T00:00:00Z') },
  'GET /audit/who-had-access': { who: { roles: ['custos:auditor'] }, call: fixed('/audit/who-had-access?entitlement=mx:read&at=2026-01-01T00:00:00Z') },
  'GET /audit/reports/sod-violations': { who: { roles: ['custos:auditor'] }, call: fixed('/audit/reports/sod-violations') },
  'GET /audit/reports/privileged-access': { who: { roles: ['custos:auditor'] }, call: fixed('/audit/reports/privileged-access') },
  'GET /audit/reports/terminated-with-access': { who: { roles: ['custos:auditor'] }, call: fixed('/audit/reports/terminated-with-access') },
  'GET /audit/reports/deprovisioning': { who: { roles: ['custos:auditor'] }, call: fixed('/audit/reports/deprovisioning') },
  'GET /audit/reports/jit-usage': { who: { roles: ['custos:auditor'] }, call: fixed('/audit/reports/jit-usage') },
  // an unknown report: 400 for an auditor, naming it
  'GET /audit/reports/{name}': { who: { roles: ['custos:auditor'] }, call: fixed('/audit/reports/nope') },
};

const METHODS = ['get', 'post', 'put', 'patch', 'delete'];

describe('the authorization matrix: every served operation, every kind of caller', () => {
  let deployment: Awaited<ReturnType<typeof startEmbedded>>;
  let served: string[];
  let world: World;
  const tokens: Record<string, string> = {};
  let seq = 0;

  /** A token of `sub` (no roles unless given), cached. */
  const tokenOf = async (sub: string, roles: Role[] = []) => (tokens[`${sub} ${roles}`] ??= await deployment.client.token(sub, roles, ['pwd', 'mfa']));
  const call = async (method: string, { path, body, headers }: Call, token?: string) => {
    const response = await deployment.client.call(method, path, { token, body, headers });
    return { status: response.status, type: (response.body as { type?: string; scimType?: string } | undefined)?.type, body: response.body };
  };

  beforeAll(async () => {
    deployment = await startEmbedded();
    const { client } = deployment;
    const document = (await client.call('GET', '/docs-json')).body as { paths: Record<string, Record<string, unknown>> };
    served = Object.entries(document.paths).flatMap(([path, item]) => METHODS.filter((m) => item[m]).map((m) => `${m.toUpperCase()} ${path}`));

    const api = new EntitlementApi(client);
    const admin = await tokenOf('mx-setup-admin', ['custos:admin']);
    const must = async (method: string, path: string, body: unknown) => {
      const response = await client.call(method, path, { token: admin, body });
      if (response.status >= 300) throw new Error(`${method} ${path}: ${response.status} ${response.text}`);
      return response.body;
    };
    const policy = { steps: [{ kind: 'manager', required: 1 }] };
    await must('POST', '/catalog/entitlements', { key: 'mx:read', application: 'mx', name: 'Read', privileged: false, risk: 'low', approvalPolicy: policy });
    for (const key of ['mx:spare', 'mx:other', 'mx:gone']) await must('POST', '/catalog/entitlements', { key, application: 'mx', name: key, privileged: false, risk: 'low' });
    await must('POST', '/roles', { key: 'mx-role', name: 'Role', entitlements: ['mx:spare'] });
    await must('POST', '/birthright-rules', { key: 'mx-rule', name: 'Rule', when: { department: 'Nowhere' }, roles: ['mx-role'] });
    await must('POST', '/sod-policies', { key: 'mx-sod', name: 'SoD', conflicting: [['mx:spare'], ['mx:other']], mode: 'approve' });
    const mia = await api.hire('Mia', { department: 'Matrix' });
    const ada = await api.hire('Ada', { department: 'Matrix', managerEmployeeId: `E-Mia-${api.run}` } as object);

    const asAda = await tokenOf(ada);
    // The request context learns identities and the catalog from their events: ask until it knows them.
    const submit = async () => {
      const response = await eventually(() => call('POST', { path: '/requests', body: { entitlement: 'mx:read', justification: 'matrix' } }, asAda), {
        accept: (r) => r.status === 201,
        what: 'the request context to know Ada, Mia and mx:read',
        timeoutMs: 30_000,
        intervalMs: 100,
      });
      return (response.body as { requestId: string }).requestId;
    };
    const requests = { read: await submit(), approve: await submit(), deny: await submit(), cancel: await submit(), revoke: await submit() };
    // Access in force, for the beneficiary to give back.
    const approved = await call('POST', { path: `/requests/${requests.revoke}/approve`, body: {} }, await tokenOf(mia));
    expect(approved.status).toBe(200);
    await eventually(() => call('GET', { path: `/requests/${requests.revoke}` }, asAda), { accept: (r) => (r.body as { status?: string }).status === 'fulfilled', what: 'the request to be fulfilled', timeoutMs: 30_000, intervalMs: 100 });
    world = { ada, mia, requests, seq: () => ++seq };
  }, 120_000);

  afterAll(() => deployment?.stop());

  it('has a row for every served operation, and serves every operation it has a row for', () => {
    expect(served.length).toBeGreaterThanOrEqual(60);
    expect({ withoutRow: served.filter((op) => !(op in MATRIX)), notServed: Object.keys(MATRIX).filter((op) => !served.includes(op)) }).toEqual({ withoutRow: [], notServed: [] });
  });

  it.each(Object.keys(MATRIX))('%s', async (operation) => {
    const { who, call: callOf } = MATRIX[operation];
    const method = operation.split(' ')[0];
    const wrong: string[] = [];
    const expect401or403 = async (caller: string, status: 401 | 403 | 404, token: string | undefined, request: Call = callOf(world)) => {
      const answer = await call(method, request, token);
      if (answer.status !== status) wrong.push(`${caller}: ${answer.status} ${answer.type ?? ''}, expected ${status}`);
    };
    const allowed = async (caller: string, token: string | undefined, request: Call = callOf(world)) => {
      const answer = await call(method, request, token);
      if (answer.status === 401 || answer.status === 403 || answer.status >= 500) wrong.push(`${caller}: ${answer.status} ${answer.type ?? ''} ${JSON.stringify(answer.body).slice(0, 200)}, expected to be let in`);
    };

    if ('public' in who) {
      await allowed('no token', undefined);
    } else {
      await expect401or403('no token', 401, undefined);
      if ('any' in who) {
        await allowed('a token without roles', await tokenOf('mx-nobody'));
      } else if ('roles' in who) {
        await expect401or403('a token without roles', 403, await tokenOf('mx-nobody'));
        for (const role of ROLES.filter((r) => !who.roles.includes(r))) await expect401or403(`wrong role ${role}`, 403, await tokenOf(`mx-${role}`, [role]));
        for (const role of who.roles) await allowed(`right role ${role}`, await tokenOf(`mx-${role}`, [role]));
      } else {
        // Refusals first: the owner's own call (last) may change the item.
        const refused = who.refused ?? 403;
        await expect401or403("another identity without roles, on the owner's item", refused, await tokenOf('mx-nobody'));
        for (const role of ROLES.filter((r) => !who.readers.includes(r))) await expect401or403(`another identity with ${role}, on the owner's item`, refused, await tokenOf(`mx-${role}`, [role]));
        for (const role of who.readers) await allowed(`another identity with ${role}`, await tokenOf(`mx-${role}`, [role]));
        await allowed('the owner, without roles', await tokenOf(who.owner(world)));
      }
    }
    expect(wrong).toEqual([]);
  });

  // Holes the matrix found, now closed in the request domain: a repeat of a cancel or an early
  // revoke used to be answered before whose request it is was asked, so anyone who knew a
  // request's id got it whole once its requester cancelled it or its beneficiary gave it back.
  const cancelAgain = () => ({ path: `/requests/${world.requests.cancel}/cancel`, body: { reason: 'again' } });
  const revokeAgain = () => ({ path: `/requests/${world.requests.revoke}/revoke`, body: { reason: 'again' } });

  it('lets the requester repeat a cancel, and the beneficiary an early revoke, of a request already ended so', async () => {
    expect((await call('POST', cancelAgain(), await tokenOf(world.ada))).body).toMatchObject({ status: 'cancelled' });
    expect((await call('POST', revokeAgain(), await tokenOf(world.ada))).body).toMatchObject({ status: 'revoked' });
  });

  it('refuses another identity a cancel of a request its requester already cancelled', async () => {
    expect([403, 404]).toContain((await call('POST', cancelAgain(), await tokenOf('mx-nobody'))).status);
  });

  it('refuses another identity an early revoke of a request its beneficiary already gave back', async () => {
    expect([403, 404]).toContain((await call('POST', revokeAgain(), await tokenOf('mx-nobody'))).status);
  });

  it("shows each approver only its own inbox: Mia the requests of Ada's she may decide, Ada and others none of them", async () => {
    const inbox = async (sub: string) => ((await call('GET', { path: '/approvals' }, await tokenOf(sub))).body as { items: Array<{ requestId: string }> }).items.map((i) => i.requestId);
    expect(await inbox(world.mia)).toContain(world.requests.read);
    expect(await inbox(world.ada)).toEqual([]);
    expect(await inbox('mx-nobody')).toEqual([]);
    expect(await inbox('mx-custos:admin')).toEqual([]);
  });
});
