import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { NatsAuth } from '@custos/platform/messaging';

/** Configuration by environment, as README.md and API.md list it. */
export interface CustosConfig {
  port: number;
  /**
   * CUSTOS_MANAGEMENT_PORT: where /health, /health/live and /metrics are served instead of `port`
   * (on the same HOST), so that an ingress forwarding `port` never exposes them. Unset: on `port`.
   */
  managementPort?: number;
  /** Address the HTTP server binds: HOST, else loopback while the development issuer is on, else every interface. */
  host: string;
  dataDir: string;
  devAuth: boolean;
  natsUrl?: string;
  /**
   * How this process authenticates to NATS (readNatsAuth): NATS_CREDS_FILE (an nkey seed or a
   * .creds file), or NATS_USER with NATS_PASSWORD_FILE / NATS_PASSWORD. Undefined: unauthenticated.
   */
  natsAuth?: NatsAuth;
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
  const managementText = env.CUSTOS_MANAGEMENT_PORT?.trim() || undefined;
  const managementPort = managementText === undefined ? undefined : Number(managementText);
  if (managementText !== undefined && (!/^\d+$/.test(managementText) || managementPort! > 65535 || (managementPort === port && port !== 0))) {
    throw new Error(`CUSTOS_MANAGEMENT_PORT must be a port number other than PORT, got ${env.CUSTOS_MANAGEMENT_PORT}`);
  }
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
  const natsUrl = env.NATS_URL || undefined;
  // A URL is shown in logs and errors (and on the command line of whoever pastes it): credentials go elsewhere.
  if (natsUrl?.split(',').some((url) => /^\s*[a-z][a-z0-9+.-]*:\/\/[^/]*@/i.test(url))) {
    throw new Error('NATS_URL must not carry credentials (user:password@host): use NATS_CREDS_FILE, or NATS_USER with NATS_PASSWORD_FILE');
  }
  return {
    port,
    ...(managementPort === undefined ? {} : { managementPort }),
    host,
    dataDir: path.resolve(env.CUSTOS_DATA_DIR || './data'),
    devAuth,
    natsUrl,
    natsAuth: readNatsAuth(env),
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

/**
 * readNatsAuth reads the NATS credentials of this process from the environment, never from the
 * command line: `NATS_CREDS_FILE` (a file holding an nkey user seed, or a .creds file with a user
 * JWT and its seed), or `NATS_USER` with `NATS_PASSWORD_FILE` (a file holding the password) or
 * `NATS_PASSWORD`. One way at most; none is an unauthenticated connection. Errors name variables
 * and files, never a secret; a password file is read now, to fail at the start, and again at
 * each (re)connection, so a rotated password needs no restart.
 */
export function readNatsAuth(env: NodeJS.ProcessEnv): NatsAuth | undefined {
  const credsFile = env.NATS_CREDS_FILE?.trim() || undefined;
  const user = env.NATS_USER?.trim() || undefined;
  const passwordFile = env.NATS_PASSWORD_FILE?.trim() || undefined;
  const password = env.NATS_PASSWORD || undefined;
  if (credsFile && (user || passwordFile || password)) {
    throw new Error('NATS_CREDS_FILE and NATS_USER/NATS_PASSWORD_FILE/NATS_PASSWORD are two ways to authenticate to NATS: set one');
  }
  if (credsFile) return { kind: 'file', variable: 'NATS_CREDS_FILE', file: path.resolve(credsFile) };
  if (passwordFile && password) throw new Error('set NATS_PASSWORD_FILE or NATS_PASSWORD, not both');
  if (!user) {
    if (passwordFile || password) throw new Error('NATS_PASSWORD_FILE/NATS_PASSWORD need NATS_USER');
    return undefined;
  }
  if (!passwordFile && !password) throw new Error('NATS_USER needs NATS_PASSWORD_FILE (or NATS_PASSWORD)');
  if (password) return { kind: 'user', user, passwordFrom: 'NATS_PASSWORD', password: () => password };
  const file = path.resolve(passwordFile as string);
  let last = readPasswordFile(file);
  return {
    kind: 'user',
    user,
    passwordFrom: `NATS_PASSWORD_FILE=${file}`,
    password: () => {
      try {
        last = readPasswordFile(file);
      } catch {
        // keep the last good password: a reconnection is no time to fail over a file being replaced
      }
      return last;
    },
  };
}

function readPasswordFile(file: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new Error(`NATS_PASSWORD_FILE: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? 'unreadable'})`);
  }
  // A file written by `echo` ends with a newline that is no part of the password.
  const password = text.replace(/\r?\n$/, '');
  if (password === '') throw new Error(`NATS_PASSWORD_FILE: ${file} is empty`);
  return password;
}
