import { UnknownTarget, type UpstreamEndpoint, type UpstreamResolver } from './ports';

/**
 * ConfiguredUpstreams: targets given by URL in configuration (`CUSTOS_PG_GATEWAY_TARGETS`, a JSON
 * object of target key -> `postgres://user:password@host:port/database?sslmode=...`), each with
 * one shared upstream account. It is the resolver of a deployment without the privileged
 * context's vault and just-in-time accounts (issue 16); those replace it through the same port,
 * giving each grant its own account.
 */
export class ConfiguredUpstreams implements UpstreamResolver {
  private readonly targets = new Map<string, UpstreamEndpoint>();

  constructor(urls: Record<string, string>) {
    for (const key of Object.keys(urls)) this.targets.set(key, parseTargetUrl(key, urls[key]));
  }

  /** From the environment variable's JSON text; an error names the variable and the target, never a password. */
  static fromEnv(text: string | undefined, name = 'CUSTOS_PG_GATEWAY_TARGETS'): ConfiguredUpstreams {
    if (!text) return new ConfiguredUpstreams({});
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new Error(`${name} must be a JSON object of target key -> postgres:// URL`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error(`${name} must be a JSON object of target key -> postgres:// URL`);
    const urls: Record<string, string> = Object.create(null);
    for (const [key, value] of Object.entries(parsed)) {
      if (typeof value !== 'string') throw new Error(`${name}: target ${key} must be a postgres:// URL`);
      urls[key] = value;
    }
    return new ConfiguredUpstreams(urls);
  }

  async knows(target: string): Promise<boolean> {
    return this.targets.has(target);
  }

  async resolve(request: { target: string }): Promise<UpstreamEndpoint> {
    const endpoint = this.targets.get(request.target);
    if (!endpoint) throw new UnknownTarget(request.target);
    return endpoint;
  }
}

function parseTargetUrl(key: string, text: string): UpstreamEndpoint {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new Error(`target ${key}: not a URL`);
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') throw new Error(`target ${key}: not a postgres:// URL`);
  const sslmode = url.searchParams.get('sslmode') ?? 'disable';
  if (!['disable', 'require', 'verify-full'].includes(sslmode)) throw new Error(`target ${key}: sslmode must be disable, require or verify-full`);
  return {
    host: decodeURIComponent(url.hostname),
    port: url.port ? Number(url.port) : 5432,
    database: decodeURIComponent(url.pathname.slice(1)) || 'postgres',
    user: decodeURIComponent(url.username) || 'postgres',
    password: decodeURIComponent(url.password),
    ssl: sslmode === 'disable' ? false : { rejectUnauthorized: sslmode === 'verify-full' },
  };
}
