import { createTestDatabase, randomNamespace, startNats, startOidcIssuer } from '@custos/platform/testing';
import { NatsBus } from '@custos/platform/messaging';
import { CustosClient } from './client';
import { RunningProcess, startProcess } from './processes';

/** Which service answers which path prefix, as the ingress of the distributed deployment routes. */
const ROUTES: Array<[string, string]> = [
  ['/hr', 'identity'],
  ['/scim', 'identity'],
  ['/identities', 'identity'],
  ['/catalog', 'entitlement'],
  ['/roles', 'entitlement'],
  ['/birthright-rules', 'entitlement'],
  ['/sod-policies', 'entitlement'],
  ['/access', 'entitlement'],
  ['/check', 'entitlement'],
  ['/requests', 'request'],
  ['/approvals', 'request'],
  ['/break-glass', 'request'],
  ['/reviews', 'request'],
  ['/audit', 'audit'],
];

const CONTEXTS = ['identity', 'entitlement', 'request', 'audit'] as const;

/** The four services as separate processes over one NATS and one PostgreSQL database, with a test OIDC issuer. */
export interface EntitlementDeployment {
  client: CustosClient;
  services: Record<(typeof CONTEXTS)[number], RunningProcess>;
  /** The NATS server and subject namespace the services use: connect a bus with both to talk to them. */
  natsUrl: string;
  namespace: string;
  /** A bus on the services' NATS and namespace (closed by stop()). */
  bus(): Promise<NatsBus>;
  stop(): Promise<void>;
}

/**
 * startEntitlementDeployment starts NATS (NATS_URL, or a nats-server of its own), a fresh
 * database (on DATABASE_URL's server, or a PostgreSQL of its own), an OIDC issuer and the four
 * services, one by one (cold starts at once only slow each other down on small machines).
 */
export async function startEntitlementDeployment(prefix = 'custos_ent_e2e'): Promise<EntitlementDeployment> {
  const [nats, db, issuer] = await Promise.all([startNats(), createTestDatabase(prefix), startOidcIssuer()]);
  const namespace = randomNamespace();
  const env = { DATABASE_URL: db.url, NATS_URL: nats.url, CUSTOS_NAMESPACE: namespace, CUSTOS_OIDC_ISSUER: issuer.issuer, CUSTOS_DEV_AUTH: undefined };
  const services: Partial<Record<(typeof CONTEXTS)[number], RunningProcess>> = {};
  let bus: Promise<NatsBus> | undefined;
  const stop = async () => {
    await (await bus?.catch(() => undefined))?.close();
    await Promise.all(Object.values(services).map((s) => s.stop()));
    await issuer.stop();
    await db.drop();
  };
  try {
    for (const context of CONTEXTS) {
      services[context] = await startProcess(`${context}-service`, `apps/${context}-service/src/main.ts`, env);
    }
  } catch (error) {
    await stop();
    throw error;
  }
  const running = services as Record<(typeof CONTEXTS)[number], RunningProcess>;
  const client = new CustosClient(
    (path) => {
      const route = ROUTES.find(([prefix]) => path.startsWith(prefix));
      return running[route ? (route[1] as (typeof CONTEXTS)[number]) : 'identity'].url;
    },
    (claims) => issuer.token(claims),
  );
  return {
    client,
    services: running,
    natsUrl: nats.url,
    namespace,
    bus: () => (bus ??= NatsBus.connect({ servers: nats.url, namespace, name: 'entitlement-e2e' })),
    stop,
  };
}

/** The output of every service, for a failing test's message. */
export function serviceOutput(deployment: EntitlementDeployment | undefined): string {
  if (!deployment) return '';
  return Object.values(deployment.services)
    .map((s) => `--- ${s.name} ---\n${s.output().slice(-4_000)}`)
    .join('\n');
}
