import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { readAuditSettings } from '@custos/audit/api';
import { readAuthSettings, readHttpEdgeSettings } from '@custos/platform/http';
import { readVaultKek } from '@custos/privileged/api';
import { readConfig } from '@custos/platform/runtime';
import { parse } from 'yaml';

const ROOT = path.resolve(__dirname, '../../..');
const DEPLOY = path.join(ROOT, 'deploy');

interface ComposeService {
  image?: string;
  command?: string[];
  environment?: Record<string, string | number | boolean>;
  env_file?: string | string[];
  secrets?: string[];
  volumes?: string[];
  ports?: string[];
  healthcheck?: { test: string[] };
  depends_on?: string[];
}
interface Compose {
  services: Record<string, ComposeService>;
  secrets?: Record<string, { file: string }>;
  volumes?: Record<string, unknown>;
}

/** Compose's interpolation, for the variables a deployment must set (`${NAME:?message}`) and those with defaults (`${NAME:-default}`). */
function interpolate(value: string, given: Record<string, string>): string {
  return value.replace(/\$\{([A-Z0-9_]+)(?::([?-])([^}]*))?\}/g, (_, name: string, kind?: string, rest?: string) => {
    if (given[name] !== undefined) return given[name];
    if (kind === '-') return rest ?? '';
    throw new Error(`compose needs ${name}: ${rest}`);
  });
}

/**
 * Every variable Custos's configuration readers look at, found by handing them an environment that
 * records what is asked of it: a variable in compose that none of them reads is a typo or a
 * leftover, and would silently do nothing.
 */
function variablesCustosReads(): Set<string> {
  const asked = new Set<string>();
  const env = new Proxy({} as NodeJS.ProcessEnv, {
    get: (_target, name) => {
      if (typeof name === 'string') asked.add(name);
      return undefined;
    },
  });
  readConfig(env);
  readAuthSettings(env);
  readHttpEdgeSettings(env);
  readAuditSettings(env, { publicUrl: 'http://localhost:3000' });
  // Without the key file it names, the privileged context refuses to start: the question was asked.
  expect(() => readVaultKek(env)).toThrow(/CUSTOS_VAULT_KEK_FILE/);
  return asked;
}

/**
 * deploy/compose.yaml, checked without Docker: it parses (anchors and merge keys included), each
 * Custos service runs an entry point that exists with settings Custos reads and accepts, its NATS
 * seed is its own secret and a user of deploy/nats/custos-auth.conf, it is probed on its
 * management port, and the ingress forwards only public ports of services that exist.
 */
describe('deploy/compose.yaml', () => {
  const compose = parse(readFileSync(path.join(DEPLOY, 'compose.yaml'), 'utf8'), { merge: true }) as Compose;
  const custosServices = Object.entries(compose.services).filter(([, service]) => service.command?.some((part) => /^apps\/.+\/src\/main\.ts$/.test(part)));
  const given = { CUSTOS_OIDC_ISSUER: 'https://sso.example.com/realms/corp' };
  const environment = (service: ComposeService): Record<string, string> =>
    Object.fromEntries(Object.entries(service.environment ?? {}).map(([name, value]) => [name, interpolate(String(value), given)]));

  const names = custosServices.map(([name]) => name);

  it('runs the four context services (at least) and the infrastructure they need', () => {
    expect(names).toEqual(expect.arrayContaining(['audit', 'entitlement', 'identity', 'request']));
    for (const needed of ['postgres', 'nats-1', 'nats-2', 'nats-3', 'ingress']) expect(Object.keys(compose.services)).toContain(needed);
    for (const [name, service] of custosServices) expect([name, service.depends_on]).toEqual([name, expect.arrayContaining(['postgres', 'nats-1', 'nats-2', 'nats-3'])]);
  });

  it.each(names)('%s: an entry point that exists, with settings Custos reads and accepts', (name) => {
    const service = compose.services[name];
    const entry = service.command!.find((part) => part.endsWith('/src/main.ts'))!;
    expect(entry).toBe(`apps/${name}-service/src/main.ts`);
    expect(existsSync(path.join(ROOT, entry))).toBe(true);

    const env = environment(service);
    const known = variablesCustosReads();
    expect(Object.keys(env).filter((variable) => !known.has(variable))).toEqual([]);
    // What the service would make of them at start: no throw, and the deployment's intent.
    const config = readConfig(env);
    expect(config).toMatchObject({ port: 3000, managementPort: 9000, host: '0.0.0.0', devAuth: false, oidcIssuer: given.CUSTOS_OIDC_ISSUER, oidcAudience: 'custos', streamReplicas: 3 });
    expect(config.databaseUrl).toMatch(/^postgres:\/\/[^@]+@postgres:5432\//);
    expect(config.natsUrl!.split(',')).toEqual(['nats://nats-1:4222', 'nats://nats-2:4222', 'nats://nats-3:4222']);
    expect(() => readAuthSettings(env)).not.toThrow();
    expect(() => readHttpEdgeSettings(env)).not.toThrow();
    expect(() => interpolate('${CUSTOS_OIDC_ISSUER:?set CUSTOS_OIDC_ISSUER}', {})).toThrow(/set CUSTOS_OIDC_ISSUER/);
  });

  it.each(names)('%s: its own NATS seed, a user of custos-auth.conf, as a compose secret', (name) => {
    const service = compose.services[name];
    const secret = `nats-${name}`;
    // Its own seed and no other's (the privileged service also has the vault's key).
    expect(service.secrets?.filter((s) => s.startsWith('nats-'))).toEqual([secret]);
    expect(environment(service).NATS_CREDS_FILE).toBe(`/run/secrets/${secret}`);
    expect(compose.secrets?.[secret]).toEqual({ file: `./nats/secrets/${name}.nk` });
    // make-nkeys.js writes that seed, and the server configuration lists its public key.
    expect(readFileSync(path.join(DEPLOY, 'nats', 'make-nkeys.js'), 'utf8')).toMatch(new RegExp(`USERS = \\[[^\\]]*'${name}'`));
    expect(readFileSync(path.join(DEPLOY, 'nats', 'custos-auth.conf'), 'utf8')).toContain(`nkey: $CUSTOS_NATS_${name.toUpperCase()}_NKEY`);
    // No other service gets this seed.
    for (const [other, otherService] of custosServices) if (other !== name) expect(otherService.secrets ?? []).not.toContain(secret);
  });

  it('probes each service on its management port, which the ingress never forwards', () => {
    for (const [name, service] of custosServices) {
      const managementPort = environment(service).CUSTOS_MANAGEMENT_PORT;
      expect([name, service.healthcheck?.test.join(' ')]).toEqual([name, expect.stringContaining(`http://127.0.0.1:${managementPort}/health`)]);
      expect(service.ports ?? []).toEqual([]);
    }
    const caddyfile = readFileSync(path.join(DEPLOY, 'Caddyfile'), 'utf8');
    const upstreams = [...caddyfile.matchAll(/reverse_proxy\s+(?:@\S+\s+)?([\w-]+):(\d+)/g)].map(([, host, port]) => ({ host, port }));
    expect(upstreams.length).toBeGreaterThanOrEqual(4);
    for (const { host, port } of upstreams) {
      expect(custosServices.map(([name]) => name)).toContain(host);
      expect(port).toBe(environment(compose.services[host]).PORT);
    }
    expect([...new Set(upstreams.map((u) => u.host))]).toEqual(expect.arrayContaining(['identity', 'entitlement', 'request', 'audit']));
    expect(compose.services.ingress.volumes).toContain('./Caddyfile:/etc/caddy/Caddyfile:ro');
  });

  it('mounts NATS configuration files that exist and passes the public keys to the servers', () => {
    for (const name of ['nats-1', 'nats-2', 'nats-3']) {
      const service = compose.services[name];
      expect(service.env_file).toBe('./nats/nkeys.env');
      for (const volume of service.volumes ?? []) {
        const [source] = volume.split(':');
        if (source.startsWith('./')) expect([volume, existsSync(path.join(DEPLOY, source))]).toEqual([volume, true]);
      }
      expect(service.command).toEqual(['-c', '/etc/nats/nats-cluster.conf', '--server_name', name]);
    }
    // The cluster configuration includes the permissions, mounted beside it where the include looks.
    const include = /^include\s+"?([^"\s]+)"?/m.exec(readFileSync(path.join(DEPLOY, 'nats', 'nats-cluster.conf'), 'utf8'))?.[1];
    expect(include).toBeDefined();
    const target = path.posix.join('/etc/nats', include!);
    for (const name of ['nats-1', 'nats-2', 'nats-3']) expect(compose.services[name].volumes).toContain(`./nats/${path.posix.basename(target)}:${target}:ro`);
  });
});
