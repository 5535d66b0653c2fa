import 'reflect-metadata';
import { AUDIT_CONTEXT, AuditModule, readAuditSettings } from '@custos/audit/api';
import { ENTITLEMENT_CONTEXT, EntitlementModule } from '@custos/entitlement/api';
import { GATEWAY_CONTEXT, GatewayModule, readGatewayConfig } from '@custos/gateway/api';
import { IDENTITY_CONTEXT, IdentityModule } from '@custos/identity/api';
import { startCustos } from '@custos/platform/http';
import { hardenProcess, readConfig } from '@custos/platform/runtime';
import { PRIVILEGED_CONTEXT, PrivilegedModule } from '@custos/privileged/api';
import { REQUEST_CONTEXT, RequestModule } from '@custos/request/api';
import { isCliCommand, runCli } from './cli/cli';

/**
 * The all-in-one launcher: the four contexts in one process on one port. With no DATABASE_URL and
 * NATS_URL it runs on the embedded store (PGlite under CUSTOS_DATA_DIR) and the in-process bus.
 */
async function main(): Promise<void> {
  const config = readConfig();
  const gateway = readGatewayConfig();
  const custos = await startCustos({
    title: 'Custos',
    processName: 'custos',
    config,
    contexts: [IDENTITY_CONTEXT, ENTITLEMENT_CONTEXT, REQUEST_CONTEXT, AUDIT_CONTEXT, GATEWAY_CONTEXT, PRIVILEGED_CONTEXT],
    modules: ([identity, entitlement, request, audit, sessions, privileged]) => [
      IdentityModule.forRuntime(identity),
      EntitlementModule.forRuntime(entitlement),
      RequestModule.forRuntime(request),
      // The embedded all-in-one makes its signing key under its data directory on first start.
      AuditModule.forRuntime(audit, readAuditSettings(process.env, { publicUrl: config.publicUrl, generateIn: config.dataDir })),
      // The PostgreSQL gateway listens when CUSTOS_PG_GATEWAY_PORT is set (targets by URL: CUSTOS_PG_GATEWAY_TARGETS).
      GatewayModule.forRuntime(sessions, { config: gateway, host: config.host, development: config.devAuth }),
      // Targets, the vault and just-in-time accounts; the vault's key from CUSTOS_VAULT_KEK_FILE, else made under the data directory on first start.
      PrivilegedModule.forRuntime(privileged, { generateIn: config.dataDir }),
    ],
  });
  const shutdown = () => {
    custos.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

// Prototype pollution fails loudly in the server and in the admin commands alike.
hardenProcess();
const args = process.argv.slice(2);
if (isCliCommand(args)) {
  // `custos hr import <file.csv> ...`, `custos audit verify <export.ndjson> ...`: admin commands, not a server.
  runCli(args).then(
    (code) => process.exit(code),
    (error) => {
      console.error(error);
      process.exit(1);
    },
  );
} else {
  main().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
