import { contextStreamName, deadLetterStreamName, deadLetterSubject, eventSubject, rpcSubject, streamName } from '@custos/platform/messaging';
import { eventually, randomNamespace } from '@custos/platform/testing';
import { jetstream, jetstreamManager, AckPolicy } from '@nats-io/jetstream';
import { headers, nkeyAuthenticator, type NatsConnection } from '@nats-io/nats-core';
import { createUser } from '@nats-io/nkeys';
import { connect } from '@nats-io/transport-node';
import { readFileSync } from 'node:fs';
import { Deployment, startDistributed } from './support/deployment';
import { EntitlementApi, type Employee } from './support/entitlement-api';
import { startPermissionedNats, type NatsUser, type PermissionedNats } from './support/nats-auth';

/**
 * Issue 14, NATS: the four services run as separate processes against a nats-server started with
 * deploy/nats/custos-auth.conf (in this test's namespace), each with its own nkey seed file
 * (NATS_CREDS_FILE). A joiner, an access request approved and granted over the entitlement RPCs,
 * an HR event through the NATS door (and a bad one dead-lettered), and the audit log all work
 * without one permission violation. Then, with the identity service's key: it may publish
 * identity events but not entitlement events, may not read (create, look up, pull from)
 * another context's consumer, nor subscribe to others' events, inboxes or RPCs; without a known
 * key no client connects; and no seed shows in any service's output.
 */
describe('NATS credentials and permissions per service (deploy/nats/custos-auth.conf)', () => {
  const namespace = randomNamespace();
  let nats: PermissionedNats;
  let deployment: Deployment;
  let api: EntitlementApi;

  const connectAs = (user: NatsUser, inboxPrefix?: string) =>
    connect({
      servers: nats.url,
      name: `permissions-e2e-${user}`,
      authenticator: nkeyAuthenticator(new TextEncoder().encode(nats.keys.seeds[user])),
      ...(inboxPrefix ? { inboxPrefix } : {}),
    });

  beforeAll(async () => {
    nats = await startPermissionedNats(namespace);
    const credentials = (user: NatsUser) => ({ NATS_CREDS_FILE: nats.keys.seedFiles[user] });
    deployment = await startDistributed(
      'custos_nats_perm',
      {
        // info, so that more of what the service says is searched for its seed below
        identity: { ...credentials('identity'), LOG_LEVEL: 'info' },
        entitlement: credentials('entitlement'),
        request: credentials('request'),
        audit: credentials('audit'),
      },
      { natsUrl: nats.url, namespace },
    );
    api = new EntitlementApi(deployment.client);
  }, 120_000);

  afterAll(async () => {
    await deployment?.stop();
    await nats?.stop();
  });

  it('runs a joiner, an approved access request and the audit log under the services\' permissions, without a violation', async () => {
    const dbRead = api.key('db:read');
    const mia = await api.hire('Mia', { department: api.key('Data') });
    const olga = await api.hire('Olga', { department: api.key('Data') });
    const ada = await api.hire('Ada', { department: api.key('Data'), managerEmployeeId: `E-Mia-${api.run}` } as Partial<Employee>);
    const policy = { steps: [{ kind: 'manager', required: 1 }, { kind: 'owner', required: 1 }] };
    const defined = await api.asAdmin('POST', '/catalog/entitlements', { key: dbRead, application: 'db', name: dbRead, privileged: false, risk: 'medium', ownerId: olga, approvalPolicy: policy });
    expect(defined.status).toBe(201);
    const as = async (sub: string, method: string, path: string, body?: unknown) => api.client.call(method, path, { token: await api.client.token(sub, []), body });

    // The request service learns identities and the catalog from identity's and entitlement's streams; it asks rpc.entitlement.evaluate-sod.
    const submitted = await eventually(() => as(ada, 'POST', '/requests', { entitlement: dbRead, justification: 'permissions e2e', duration: 'PT2H' }), {
      accept: (r) => r.status === 201,
      what: 'the request service to know Ada, her manager and the entitlement',
      timeoutMs: 30_000,
      intervalMs: 250,
    });
    const requestId = submitted.body.requestId as string;
    expect((await as(mia, 'POST', `/requests/${requestId}/approve`, {})).status).toBe(200);
    expect((await as(olga, 'POST', `/requests/${requestId}/approve`, {})).status).toBe(200);
    // request-fulfilment reads the request stream and asks rpc.entitlement.grant-request
    const fulfilled = await eventually(() => as(ada, 'GET', `/requests/${requestId}`), { accept: (r) => r.body?.status === 'fulfilled', what: 'the request fulfilled', timeoutMs: 20_000, intervalMs: 100 });
    expect((await api.check(ada, dbRead)).grantIds).toEqual([fulfilled.body.grantId]);
    // the audit service reads all three streams
    expect(nats.violations()).toEqual([]);
    await api.auditEventsWhen(ada, 'AccessGranted', (events) => events.some((e) => e.name === 'AccessGranted'), 'the grant in the audit log');

    // An HR system, with its own key, feeds the identity service's NATS door: a good event applies, a bad one is dead-lettered (dlq.identity-hr-door).
    const hr = await connectAs('hr');
    try {
      const js = jetstream(hr);
      const employeeId = `E-Nats-${api.run}`;
      const joiner = {
        eventId: `nats-${api.run}-1`, system: 'workday', type: 'joiner', effectiveAt: '2026-01-05T09:00:00Z',
        employee: { employeeId, givenName: 'Nat', familyName: 'Door', email: `nat-${api.run}@example.com`, employmentType: 'employee' },
      };
      await eventually(() => js.publish(`${namespace}.hr.jml.workday`, JSON.stringify(joiner)), { what: 'the HR stream', timeoutMs: 10_000 });
      await js.publish(`${namespace}.hr.jml.workday`, JSON.stringify({ ...joiner, eventId: `nats-${api.run}-2`, system: 'sap' }));
      const admin = await api.admin();
      await eventually(async () => {
        const r = await api.client.call('GET', `/identities?employeeId=${employeeId}`, { token: admin });
        return r.status === 200 && JSON.stringify(r.body).includes(employeeId);
      }, { what: 'the identity hired through the NATS door', timeoutMs: 20_000 });
    } finally {
      await hr.drain();
    }
    // the bad event reached the dead-letter stream (seen with the test's own admin key)
    const admin = await connectAs('admin');
    try {
      const jsm = await jetstreamManager(admin);
      const dlq = deadLetterSubject(namespace, 'identity-hr-door');
      await eventually(async () => (await jsm.streams.info(deadLetterStreamName(namespace), { subjects_filter: dlq })).state.subjects?.[dlq] === 1, {
        what: 'the bad HR event dead-lettered',
        timeoutMs: 20_000,
      });
    } finally {
      await admin.close();
    }
    expect(nats.violations()).toEqual([]);
  });

  it('lets every other service ask the identity service which identity an address is (rpc.identity.resolve-email), and only that of identity\'s RPCs', async () => {
    const address = `eve-${api.run}@example.com`;
    const eve = await api.hire('Eve', { email: address.toUpperCase() });
    const subject = rpcSubject(namespace, 'identity', 'resolve-email');
    for (const user of ['entitlement', 'request', 'audit'] as const) {
      const nc = await connectAs(user, `_INBOX_${user}-service`);
      try {
        const answer = await eventually(async () => (await nc.request(subject, JSON.stringify({ email: address }), { timeout: 5_000 })).json<{ identityId: string | null }>(), {
          accept: (a) => a.identityId === eve,
          what: `the identity service to answer ${user} with Eve's identity`,
          timeoutMs: 20_000,
          intervalMs: 250,
        });
        expect(answer).toEqual({ identityId: eve });
      } finally {
        await nc.close();
      }
    }
    // The audit service's questions to the stores (GET /audit/verify) are answered too: any answer, even a refusal of this empty request, came back through the permissions.
    const audit = await connectAs('audit', '_INBOX_audit-service');
    try {
      for (const context of ['identity', 'entitlement', 'request']) {
        const answer = await audit.request(rpcSubject(namespace, context, 'store-events'), '{}', { timeout: 5_000 }).then(() => 'answered', (error: Error) => error.message);
        expect([context, answer]).toEqual([context, 'answered']);
      }
    } finally {
      await audit.close();
    }
    expect(nats.violations()).toEqual([]);
    // The permission is for this RPC alone: the store's events stay the audit service's to ask.
    const request = await connectAs('request', '_INBOX_request-service');
    try {
      const lines = await (async () => {
        const before = nats.violations().length;
        await request.request(rpcSubject(namespace, 'identity', 'store-events'), '{}', { timeout: 1_000 }).catch(() => undefined);
        return eventually(async () => nats.violations().slice(before), { accept: (l) => l.length > 0, what: 'a permissions violation', timeoutMs: 5_000, intervalMs: 50 });
      })();
      expect(lines.join('\n')).toContain(`Publish Violation - User request, Subject "${rpcSubject(namespace, 'identity', 'store-events')}"`);
    } finally {
      await request.close();
    }
  });

  describe('with the identity service\'s key', () => {
    let nc: NatsConnection;
    const violationsAfter = async (act: () => Promise<unknown>) => {
      const before = nats.violations().length;
      await act();
      await nc.flush().catch(() => undefined);
      return eventually(async () => nats.violations().slice(before), { accept: (lines) => lines.length > 0, what: 'a permissions violation', timeoutMs: 5_000, intervalMs: 50 });
    };
    const refused = (work: Promise<unknown>) => work.then(() => 'allowed', (error: Error) => `refused: ${error.message}`);

    beforeAll(async () => {
      nc = await connectAs('identity', '_INBOX_identity-service');
    });
    afterAll(() => nc?.close());

    it('publishes identity events, but not entitlement events', async () => {
      const js = jetstream(nc);
      const h = headers();
      h.set('Ce-Type', 'custos.identity.PermissionProbe.v1');
      const ack = await js.publish(eventSubject(namespace, 'identity', 'PermissionProbe'), '{}', { headers: h });
      expect(ack.stream).toBe(contextStreamName(namespace, 'identity'));

      const subject = eventSubject(namespace, 'entitlement', 'ForgedAccessGranted');
      let outcome = '';
      const lines = await violationsAfter(async () => (outcome = await refused(js.publish(subject, '{}', { timeout: 2_000 }))));
      expect(outcome).toMatch(/^refused/);
      expect(lines).toEqual([`Publish Violation - User identity, Subject "${subject}"`]);
      const admin = await connectAs('admin');
      try {
        const info = await (await jetstreamManager(admin)).streams.info(contextStreamName(namespace, 'entitlement'), { subjects_filter: subject }).catch(() => undefined);
        expect(info?.state.subjects?.[subject]).toBeUndefined();
      } finally {
        await admin.close();
      }
    });

    it('cannot create, look up or pull from another context\'s consumer', async () => {
      const jsm = await jetstreamManager(nc);
      const identityStream = contextStreamName(namespace, 'identity');
      const entitlementStream = contextStreamName(namespace, 'entitlement');
      const js = jetstream(nc);
      const attempts: Array<[string, () => Promise<unknown>, string]> = [
        // its own durable name, on entitlement's stream
        ['create one on entitlement\'s stream', () => jsm.consumers.add(entitlementStream, { durable_name: 'identity-snoop', ack_policy: AckPolicy.Explicit, filter_subject: `${namespace}.evt.entitlement.>` }), `$JS.API.CONSUMER.CREATE.${entitlementStream}.identity-snoop`],
        // the audit service's durable on identity's own stream
        ['look up audit\'s durable', () => js.consumers.get(identityStream, 'audit-log-identity'), `$JS.API.CONSUMER.INFO.${identityStream}.audit-log-identity`],
        ['pull from audit\'s durable', () => nc.request(`$JS.API.CONSUMER.MSG.NEXT.${identityStream}.audit-log-identity`, JSON.stringify({ batch: 1, expires: 1_000_000_000 }), { timeout: 2_000 }), `$JS.API.CONSUMER.MSG.NEXT.${identityStream}.audit-log-identity`],
        ['pull from entitlement\'s durable', () => nc.request(`$JS.API.CONSUMER.MSG.NEXT.${identityStream}.entitlement-identity-lifecycle`, JSON.stringify({ batch: 1 }), { timeout: 2_000 }), `$JS.API.CONSUMER.MSG.NEXT.${identityStream}.entitlement-identity-lifecycle`],
        ['read the request stream\'s info', () => jsm.streams.info(contextStreamName(namespace, 'request')), `$JS.API.STREAM.INFO.${contextStreamName(namespace, 'request')}`],
      ];
      for (const [what, attempt, apiSubject] of attempts) {
        let outcome = '';
        const lines = await violationsAfter(async () => (outcome = await refused(attempt())));
        expect([what, outcome]).toEqual([what, expect.stringMatching(/^refused/)]);
        expect([what, lines.join('\n')]).toEqual([what, expect.stringContaining(apiSubject)]);
      }
    });

    it('cannot subscribe to other contexts\' events, another service\'s inbox, or serve an entitlement RPC', async () => {
      for (const subject of [`${namespace}.evt.>`, '_INBOX_request-service.>', rpcSubject(namespace, 'entitlement', 'check')]) {
        const lines = await violationsAfter(async () => void nc.subscribe(subject));
        expect(lines.join('\n')).toContain(`Subscription Violation - User identity, Subject "${subject}"`);
      }
    });

    it('keeps its own HR door consumer (the HR stream is its)', async () => {
      const info = await (await jetstream(nc).consumers.get(streamName(namespace, 'CUSTOS_HR'), 'identity-hr-door')).info(true);
      expect(info.config.durable_name).toBe('identity-hr-door');
    });
  });

  it('lets no client connect without a key the configuration knows', async () => {
    const anonymous = await connect({ servers: nats.url, reconnect: false }).then(
      async (c) => (await c.close(), 'connected'),
      (error: Error) => error.message,
    );
    expect(anonymous).toMatch(/Authorization Violation/i);
    const stranger = createUser();
    const strangerSeed = new TextDecoder().decode(stranger.getSeed());
    const unknown = await connect({ servers: nats.url, reconnect: false, authenticator: nkeyAuthenticator(stranger.getSeed()) }).then(
      async (c) => (await c.close(), 'connected'),
      (error: Error) => `${error.message} ${error.stack ?? ''}`,
    );
    expect(unknown).toMatch(/Authorization Violation/i);
    expect(unknown).not.toContain(strangerSeed);
  });

  it('shows no service\'s seed in what the services print', () => {
    for (const [context, service] of Object.entries(deployment.services)) {
      const output = service.output();
      for (const user of ['identity', 'entitlement', 'request', 'audit'] as const) {
        expect([context, user, output.includes(nats.keys.seeds[user])]).toEqual([context, user, false]);
      }
    }
    // the seed files are where the services read them from, and the identity service said how it authenticates
    expect(readFileSync(nats.keys.seedFiles.identity, 'utf8').trim()).toBe(nats.keys.seeds.identity);
    expect(deployment.services.identity.output()).toContain(`NATS_CREDS_FILE=${nats.keys.seedFiles.identity}`);
  });
});
