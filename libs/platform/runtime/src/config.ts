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
  // An empty variable (`PORT=` in a compose file) counts as unset, as for the URLs below: with
  // `??` it was kept, and Number('') or Number(' ') is 0 (a random port), path.resolve('') the
  // working directory. Only decimal digits are a port: Number also reads '0x50' and '1e3'.
  const portText = env.PORT?.trim() || '3000';
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port > 65535) throw new Error(`PORT must be a port number, got ${env.PORT}`);
  const namespace = env.CUSTOS_NAMESPACE ?? '';
  if (namespace && !/^[a-z0-9_-]+$/i.test(namespace)) throw new Error('CUSTOS_NAMESPACE may hold only letters, digits, - and _');
  // Unchecked, a bad value reached JetStream as NaN or 0 replicas; JetStream allows 1 to 5.
  const replicasText = env.CUSTOS_STREAM_REPLICAS?.trim() || '1';
  const streamReplicas = Number(replicasText);
  if (!/^\d+$/.test(replicasText) || streamReplicas < 1 || streamReplicas > 5) {
    throw new Error(`CUSTOS_STREAM_REPLICAS must be a whole number from 1 to 5, got ${env.CUSTOS_STREAM_REPLICAS}`);
  }
  return {
    port,
    dataDir: path.resolve(env.CUSTOS_DATA_DIR || './data'),
    devAuth: env.CUSTOS_DEV_AUTH === 'true',
    natsUrl: env.NATS_URL || undefined,
    databaseUrl: env.DATABASE_URL || undefined,
    oidcIssuer: env.CUSTOS_OIDC_ISSUER || undefined,
    oidcAudience: env.CUSTOS_OIDC_AUDIENCE || undefined,
    namespace,
    logLevel: env.LOG_LEVEL || 'info',
    streamReplicas,
  };
}
