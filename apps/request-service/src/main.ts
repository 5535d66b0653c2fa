import 'reflect-metadata';
import { REQUEST_CONTEXT, RequestModule } from '@custos/request/api';
import { runService } from '@custos/platform/http';

/** The request service on its own: PostgreSQL (DATABASE_URL) and NATS (NATS_URL), any number of replicas. */
runService({
  name: 'request',
  context: REQUEST_CONTEXT,
  module: (runtime) => RequestModule.forRuntime(runtime),
});
