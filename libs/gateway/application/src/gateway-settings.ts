import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { isoDurationEnd } from '@custos/platform/domain';

/** The gateway's configuration, read from the environment. */
export interface GatewayConfig {
  /** CUSTOS_PG_GATEWAY_PORT: where PostgreSQL clients connect; unset: no gateway in this process. */
  port?: number;
  /** CUSTOS_PG_GATEWAY_HOST: the address it binds; default: the HTTP server's. */
  host?: string;
  /** CUSTOS_PG_GATEWAY_ID: names this gateway process in its sessions (default: the host name), so a restart marks only its own sessions incomplete. */
  gatewayId: string;
  /** CUSTOS_PG_GATEWAY_TLS_CERT / _KEY: PEM files; unset in development: a certificate generated at start. */
  tls?: { cert: string; key: string };
  /** CUSTOS_PG_GATEWAY_TLS_REQUIRED (default true): refuse clients that do not start TLS. */
  tlsRequired: boolean;
  /** CUSTOS_PG_GATEWAY_TOKEN_TTL (ISO 8601, default PT5M, at most PT1H): how long a session token may wait to be used. */
  tokenTtlMs: number;
  /** CUSTOS_PG_GATEWAY_REDACT: `all` (default: every bind parameter recorded as [redacted]), `none`, or `re:<regex>`: values matching it are redacted. */
  redact: (parameters: Array<string | null>) => Array<string | null>;
  /**
   * CUSTOS_PG_GATEWAY_RECORD_LINGER_MS (default 20, at most 1000): how long a completed statement
   * waits for others to share its append. A crash loses at most this much (plus one commit) of the
   * recording, and the session says so (SessionMarkedIncomplete); 0 appends at once.
   */
  recordLingerMs: number;
  /** CUSTOS_PG_GATEWAY_TARGETS: targets given by URL (ConfiguredUpstreams). */
  targets?: string;
}

const REDACTED = '[redacted]';

/** readGatewayConfig reads the gateway's settings; an error names the variable at fault (never a secret). */
export function readGatewayConfig(env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  const portText = env.CUSTOS_PG_GATEWAY_PORT;
  let port: number | undefined;
  if (portText !== undefined && portText !== '') {
    port = Number(portText);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error('CUSTOS_PG_GATEWAY_PORT must be a port number');
  }
  const cert = env.CUSTOS_PG_GATEWAY_TLS_CERT;
  const key = env.CUSTOS_PG_GATEWAY_TLS_KEY;
  if (Boolean(cert) !== Boolean(key)) throw new Error('CUSTOS_PG_GATEWAY_TLS_CERT and CUSTOS_PG_GATEWAY_TLS_KEY go together');
  const ttl = isoDurationEnd(0, env.CUSTOS_PG_GATEWAY_TOKEN_TTL ?? 'PT5M');
  const tokenTtlMs = 'end' in ttl ? ttl.end : NaN;
  if (!(tokenTtlMs > 0 && tokenTtlMs <= 3_600_000)) throw new Error('CUSTOS_PG_GATEWAY_TOKEN_TTL must be an ISO 8601 duration of at most PT1H');
  const recordLingerMs = Number(env.CUSTOS_PG_GATEWAY_RECORD_LINGER_MS ?? 20);
  if (!Number.isInteger(recordLingerMs) || recordLingerMs < 0 || recordLingerMs > 1000) throw new Error('CUSTOS_PG_GATEWAY_RECORD_LINGER_MS must be an integer from 0 to 1000');
  return {
    port,
    host: env.CUSTOS_PG_GATEWAY_HOST || undefined,
    gatewayId: (env.CUSTOS_PG_GATEWAY_ID || hostname()).replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 64),
    tls: cert && key ? { cert: readFileSync(cert, 'utf8'), key: readFileSync(key, 'utf8') } : undefined,
    tlsRequired: env.CUSTOS_PG_GATEWAY_TLS_REQUIRED !== 'false',
    tokenTtlMs,
    redact: redactionRule(env.CUSTOS_PG_GATEWAY_REDACT ?? 'all'),
    recordLingerMs,
    targets: env.CUSTOS_PG_GATEWAY_TARGETS,
  };
}

/** redactionRule: what of a statement's bind parameters the recording keeps. */
export function redactionRule(rule: string): (parameters: Array<string | null>) => Array<string | null> {
  if (rule === 'all') return (parameters) => parameters.map((p) => (p === null ? null : REDACTED));
  if (rule === 'none') return (parameters) => parameters;
  if (rule.startsWith('re:')) {
    let pattern: RegExp;
    try {
      pattern = new RegExp(rule.slice(3));
    } catch {
      throw new Error('CUSTOS_PG_GATEWAY_REDACT: re:<regex> is not a valid regular expression');
    }
    return (parameters) => parameters.map((p) => (p !== null && pattern.test(p) ? REDACTED : p));
  }
  throw new Error('CUSTOS_PG_GATEWAY_REDACT must be all, none or re:<regex>');
}
