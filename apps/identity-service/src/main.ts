import 'reflect-metadata';
import { IDENTITY_CONTEXT, IdentityModule } from '@custos/identity/api';
import { runService } from '@custos/platform/http';

/** The identity service on its own: PostgreSQL (DATABASE_URL) and NATS (NATS_URL), any number of replicas. */
runService({
  name: 'identity',
  context: IDENTITY_CONTEXT,
  module: (runtime) => IdentityModule.forRuntime(runtime),
});
