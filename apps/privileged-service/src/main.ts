import 'reflect-metadata';
import { PRIVILEGED_CONTEXT, PrivilegedModule } from '@custos/privileged/api';
import { runService } from '@custos/platform/http';

/** The privileged service on its own: PostgreSQL (DATABASE_URL), NATS (NATS_URL) and the vault's key file (CUSTOS_VAULT_KEK_FILE), any number of replicas. */
runService({
  name: 'privileged',
  context: PRIVILEGED_CONTEXT,
  module: (runtime) => PrivilegedModule.forRuntime(runtime),
});
