import 'reflect-metadata';
import { AUDIT_CONTEXT, AuditModule, readAuditSettings } from '@custos/audit/api';
import { startCustos } from '@custos/platform/http';
import { hardenProcess, readConfig } from '@custos/platform/runtime';

/** The audit service on its own: PostgreSQL (DATABASE_URL) and NATS (NATS_URL), any number of replicas. */
async function main(): Promise<void> {
  hardenProcess();
  const config = readConfig();
  if (!config.databaseUrl || !config.natsUrl) throw new Error('the audit service needs DATABASE_URL and NATS_URL (use `npm start` for the embedded all-in-one)');
  const service = await startCustos({
    title: 'Custos audit service',
    processName: 'audit-service',
    config,
    contexts: [AUDIT_CONTEXT],
    // Its replicas share one signing key (CUSTOS_AUDIT_SIGNING_KEY[_FILE]); none is generated here.
    modules: ([runtime]) => [AuditModule.forRuntime(runtime, readAuditSettings(process.env, { publicUrl: config.publicUrl }))],
  });
  const shutdown = () => void service.stop().then(() => process.exit(0), () => process.exit(1));
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
