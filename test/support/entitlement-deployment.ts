import { NatsBus } from '@custos/platform/messaging';
import { Deployment, startDistributed } from './deployment';

/** The distributed deployment, plus a bus on the services' NATS and namespace to call their RPCs. */
export interface EntitlementDeployment extends Deployment {
  natsUrl: string;
  namespace: string;
  /** A bus on the services' NATS and namespace (closed by stop()). */
  bus(): Promise<NatsBus>;
}

/** startEntitlementDeployment starts the four services (see startDistributed) and lends a bus to talk to them. */
export async function startEntitlementDeployment(prefix = 'custos_ent_e2e'): Promise<EntitlementDeployment> {
  const deployment = await startDistributed(prefix);
  const natsUrl = deployment.env.NATS_URL!;
  const namespace = deployment.env.CUSTOS_NAMESPACE!;
  let bus: Promise<NatsBus> | undefined;
  return {
    ...deployment,
    natsUrl,
    namespace,
    bus: () => (bus ??= NatsBus.connect({ servers: natsUrl, namespace, name: 'entitlement-e2e' })),
    async stop() {
      await (await bus?.catch(() => undefined))?.close();
      await deployment.stop();
    },
  };
}
