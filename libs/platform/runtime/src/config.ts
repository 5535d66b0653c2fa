import * as path from 'node:path';

/** Configuration by environment, as README.md and API.md list it. */
export interface CustosConfig {
  port: number;
  /** Address the HTTP server binds: HOST, else loopback while the development issuer is on, else every interface. */
  host: string;
  dataDir: string;
  devAuth: boolean;
  natsUrl?: string;
  databaseUrl?: string;
  /**
   * EVENT_STORE: a KurrentDB connection string (`kurrentdb://host:2113?tls=false`) to keep the
   * contexts' events in KurrentDB; their checkpoints, read models and inbox stay in PostgreSQL
   * (DATABASE_URL) or PGlite. Unset: events in PostgreSQL or PGlite too (the default).
   */
  eventStoreUrl?: string;
  oidcIssuer?: string;
  oidcAudience?: string;
  /** Prefix of subjects and JetStream streams; empty in production, random per test run. */
  namespace: string;
  logLevel: string;
  /** JetStream stream replicas (3 on a three-node cluster). */
  streamReplicas: number;
  /**
   * The address clients reach Custos at (`https://custos.example.com`), for links Custos writes
   * into answers (SCIM `Location`, `meta.location`, `$ref`): never taken from a request's `Host`.
   */
  publicUrl: string;
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
  // Only the literal `true` turns the development issuer on; it hands out admin tokens to anyone
  // who can reach it, so it never runs where NODE_ENV says production.
  const devAuth = env.CUSTOS_DEV_AUTH === 'true';
  if (devAuth && env.NODE_ENV === 'production') {
    throw new Error('CUSTOS_DEV_AUTH=true is refused with NODE_ENV=production: the development issuer gives admin tokens to anyone. Configure CUSTOS_OIDC_ISSUER instead.');
  }
  const host = env.HOST?.trim() || (devAuth ? '127.0.0.1' : '0.0.0.0');
  const publicUrl = (env.CUSTOS_PUBLIC_URL?.trim() || `http://localhost:${port}`).replace(/\/+$/, '');
  let parsedPublicUrl: URL;
  try {
    parsedPublicUrl = new URL(publicUrl);
  } catch {
    throw new Error(`CUSTOS_PUBLIC_URL must be an absolute http(s) URL, got ${env.CUSTOS_PUBLIC_URL}`);
  }
  if (!/^https?:$/.test(parsedPublicUrl.protocol) || parsedPublicUrl.search || parsedPublicUrl.hash) {
    throw new Error(`CUSTOS_PUBLIC_URL must be an absolute http(s) URL without query or fragment, got ${env.CUSTOS_PUBLIC_URL}`);
  }
  // The schemes KurrentDB's client accepts (esdb is its deprecated name); anything else is a mistake, not PostgreSQL.
  const eventStoreUrl = env.EVENT_STORE?.trim() || undefined;
  if (eventStoreUrl && !/^(kurrentdb|kurrent|kdb|esdb)(\+discover)?:\/\/[^/?#\s]/i.test(eventStoreUrl)) {
    // Not echoed whole: a connection string may carry a password.
    throw new Error(`EVENT_STORE must be a KurrentDB connection string (kurrentdb://host:2113?tls=false), or unset for PostgreSQL/PGlite; got one starting ${JSON.stringify(eventStoreUrl.slice(0, eventStoreUrl.indexOf(':') + 1 || 12))}`);
  }
  return {
    port,
    host,
    dataDir: path.resolve(env.CUSTOS_DATA_DIR || './data'),
    devAuth,
    natsUrl: env.NATS_URL || undefined,
    databaseUrl: env.DATABASE_URL || undefined,
    eventStoreUrl,
    oidcIssuer: env.CUSTOS_OIDC_ISSUER || undefined,
    oidcAudience: env.CUSTOS_OIDC_AUDIENCE || undefined,
    namespace,
    logLevel: env.LOG_LEVEL || 'info',
    streamReplicas,
    publicUrl,
  };
}
