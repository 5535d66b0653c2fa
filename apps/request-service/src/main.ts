import 'reflect-metadata';
import { REQUEST_CONTEXT, RequestModule } from '@custos/request/api';
import { startCustos } from '@custos/platform/http';
import { hardenProcess, readConfig } from '@custos/platform/runtime';

/** The request service on its own: PostgreSQL (DATABASE_URL) and NATS (NATS_URL), any number of replicas. */
async function main(): Promise<void> {
  hardenProcess();
  const config = readConfig();
  if (!config.databaseUrl || !config.natsUrl) throw new Error('the request service needs DATABASE_URL and NATS_URL (use `npm start` for the embedded all-in-one)');
  const service = await startCustos({
    title: 'Custos request service',
    processName: 'request-service',
    config,
    contexts: [REQUEST_CONTEXT],
    modules: ([runtime]) => [RequestModule.forRuntime(runtime)],
  });
  const shutdown = () => void service.stop().then(() => process.exit(0), () => process.exit(1));
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
