import * as path from 'node:path';

/** Configuration by environment, as README.md and API.md list it. */
export interface CustosConfig {
  port: number;
  dataDir: string;
  devAuth: boolean;
  natsUrl?: string;
  databaseUrl?: string;
  oidcIssuer?: string;
  oidcAudience?: string;
  /** Prefix of subjects and JetStream streams; empty in production, random per test run. */
  namespace: string;
  logLevel: string;
  /** JetStream stream replicas (3 on a three-node cluster). */
  streamReplicas: number;
}

/** Reads the configuration, refusing values that cannot work rather than guessing. */
export function readConfig(env: NodeJS.ProcessEnv = process.env): CustosConfig {
  const port = Number(env.PORT ?? 3000);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`PORT must be a port number, got ${env.PORT}`);
  const namespace = env.CUSTOS_NAMESPACE ?? '';
  if (namespace && !/^[a-z0-9_-]+$/i.test(namespace)) throw new Error('CUSTOS_NAMESPACE may hold only letters, digits, - and _');
  return {
    port,
    dataDir: path.resolve(env.CUSTOS_DATA_DIR ?? './data'),
    devAuth: env.CUSTOS_DEV_AUTH === 'true',
    natsUrl: env.NATS_URL || undefined,
    databaseUrl: env.DATABASE_URL || undefined,
    oidcIssuer: env.CUSTOS_OIDC_ISSUER || undefined,
    oidcAudience: env.CUSTOS_OIDC_AUDIENCE || undefined,
    namespace,
    logLevel: env.LOG_LEVEL ?? 'info',
    streamReplicas: Number(env.CUSTOS_STREAM_REPLICAS ?? 1),
  };
}
