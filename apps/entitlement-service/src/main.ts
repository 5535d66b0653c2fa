import 'reflect-metadata';
import { ENTITLEMENT_CONTEXT, EntitlementModule } from '@custos/entitlement/api';
import { runService } from '@custos/platform/http';

/** The entitlement service on its own: PostgreSQL (DATABASE_URL) and NATS (NATS_URL), any number of replicas. */
runService({
  name: 'entitlement',
  context: ENTITLEMENT_CONTEXT,
  module: (runtime) => EntitlementModule.forRuntime(runtime),
});
