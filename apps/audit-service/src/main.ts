import 'reflect-metadata';
import { AUDIT_CONTEXT, AuditModule, readAuditSettings } from '@custos/audit/api';
import { runService } from '@custos/platform/http';

/** The audit service on its own: PostgreSQL (DATABASE_URL) and NATS (NATS_URL), any number of replicas. */
runService({
  name: 'audit',
  context: AUDIT_CONTEXT,
  // Its replicas share one signing key (CUSTOS_AUDIT_SIGNING_KEY[_FILE]); none is generated here.
  module: (runtime, config) => AuditModule.forRuntime(runtime, readAuditSettings(process.env, { publicUrl: config.publicUrl })),
});
