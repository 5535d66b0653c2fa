/**
 * Cerbos, the policy decision point we compare the check API with: the binary shipped by the
 * `cerbos` npm package, started as its own process with a disk policy store, audit and telemetry
 * off, and one resource policy equivalent to Custos's check rule.
 *
 * What Cerbos is given: Cerbos is stateless (it keeps policies, not data), so every request
 * carries what the decision needs, as a policy enforcement point would send it:
 *   principal  { id: identityId, roles: ['identity'],
 *                attr: { terminated: bool, grants: { <entitlement key>: <end of its latest grant, RFC 3339, or '' when permanent> } } }
 *   resource   { kind: 'entitlement', id: <entitlement key> }, action `use`
 * with every grant the identity holds (including ones past their end that no expiry job has
 * revoked yet), and the rule: allow `use` when the principal is not terminated, holds the
 * entitlement, and its grant is permanent or ends after `now()`. Custos is given only
 * (identityId, entitlement): it holds the grants itself.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SeedIdentity } from './check-data';
import { freePort } from '../../test/support/processes';

export const CERBOS_POLICY = `apiVersion: api.cerbos.dev/v1
resourcePolicy:
  version: default
  resource: entitlement
  rules:
    - actions: ["use"]
      effect: EFFECT_ALLOW
      roles: ["identity"]
      condition:
        match:
          # Attribute values arrive as dynamic JSON values: string() makes the timestamp overload apply.
          expr: >-
            !P.attr.terminated && R.id in P.attr.grants &&
            (P.attr.grants[R.id] == "" || timestamp(string(P.attr.grants[R.id])) > now())
`;

export interface RunningCerbos {
  url: string;
  version: string;
  pid: number;
  stop(): Promise<void>;
}

/** The Cerbos release the benchmark compares against; its binary ships in an npm package per platform. */
const CERBOS_VERSION = '0.51.0';

/**
 * The cerbos binary, installed on first use under node_modules/.cache (outside package.json: the
 * registry has no builds of it for some platforms, which would break `npm ci` for everyone).
 */
function binary(): string {
  const pkg = `@cerbos/cerbos-${process.platform}-${process.arch}`;
  const prefix = join(__dirname, '..', '..', 'node_modules', '.cache', 'custos-bench', `cerbos-${CERBOS_VERSION}`);
  const resolve = () => require.resolve(pkg, { paths: [prefix] });
  try {
    return resolve();
  } catch {
    execFileSync('npm', ['install', '--no-save', '--no-package-lock', '--prefix', prefix, `${pkg}@${CERBOS_VERSION}`], { stdio: 'inherit' });
  }
  try {
    return resolve();
  } catch (error) {
    throw new Error(`the cerbos binary package ${pkg}@${CERBOS_VERSION} could not be installed`, { cause: error });
  }
}

export async function startCerbos(): Promise<RunningCerbos> {
  const dir = mkdtempSync(join(tmpdir(), 'custos-cerbos-'));
  mkdirSync(join(dir, 'policies'));
  writeFileSync(join(dir, 'policies', 'entitlement.yaml'), CERBOS_POLICY);
  const [httpPort, grpcPort] = [await freePort(), await freePort()];
  writeFileSync(
    join(dir, 'config.yaml'),
    [
      'server:',
      `  httpListenAddr: "127.0.0.1:${httpPort}"`,
      `  grpcListenAddr: "127.0.0.1:${grpcPort}"`,
      'storage:',
      '  driver: disk',
      '  disk:',
      `    directory: ${join(dir, 'policies')}`,
      '    watchForChanges: false',
      'audit:',
      '  enabled: false',
      'telemetry:',
      '  disabled: true',
      '',
    ].join('\n'),
  );
  const child: ChildProcess = spawn(binary(), ['server', `--config=${join(dir, 'config.yaml')}`, '--log-level=error'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, CERBOS_NO_TELEMETRY: '1' },
  });
  let output = '';
  child.stdout?.on('data', (c) => (output += c));
  child.stderr?.on('data', (c) => (output += c));
  let exited = false;
  child.once('exit', () => (exited = true));
  const url = `http://127.0.0.1:${httpPort}`;
  const stop = () =>
    new Promise<void>((resolve) => {
      const done = () => {
        rmSync(dir, { recursive: true, force: true });
        resolve();
      };
      if (exited) return done();
      child.once('exit', done);
      child.kill('SIGTERM');
    });
  for (let waited = 0; ; waited += 100) {
    if (exited) throw new Error(`cerbos exited:\n${output}`);
    try {
      const response = await fetch(`${url}/_cerbos/health`);
      if (response.ok) break;
    } catch {
      // not listening yet
    }
    if (waited > 30_000) {
      await stop();
      throw new Error(`cerbos did not become healthy:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const version = (await (await fetch(`${url}/api/server_info`)).json()) as { version?: string };
  return { url, version: version.version ?? '?', pid: child.pid ?? 0, stop };
}

/** The principal attributes for one identity: its grants' entitlement keys with the end of the latest grant of each. */
export function principalOf(identity: SeedIdentity | undefined, identityId: string) {
  const grants: Record<string, string> = {};
  for (const grant of identity?.grants ?? []) {
    const end = grant.expiresAt ?? '';
    const known = grants[grant.entitlement];
    if (known === undefined) grants[grant.entitlement] = end;
    else if (known !== '' && (end === '' || Date.parse(end) > Date.parse(known))) grants[grant.entitlement] = end;
  }
  return { id: identityId, roles: ['identity'], attr: { terminated: identity?.terminated ?? false, grants } };
}

/** The body of POST /api/check/resources for one check. */
export function cerbosCheckBody(identity: SeedIdentity | undefined, identityId: string, entitlement: string): string {
  return JSON.stringify({
    principal: principalOf(identity, identityId),
    resources: [{ actions: ['use'], resource: { kind: 'entitlement', id: entitlement } }],
  });
}

/** Reads Cerbos's answer to one check: true for EFFECT_ALLOW. */
export function cerbosAllowed(body: string): boolean {
  const parsed = JSON.parse(body) as { results?: Array<{ actions?: Record<string, string> }> };
  const effect = parsed.results?.[0]?.actions?.use;
  if (effect !== 'EFFECT_ALLOW' && effect !== 'EFFECT_DENY') throw new Error(`unexpected Cerbos answer: ${body.slice(0, 300)}`);
  return effect === 'EFFECT_ALLOW';
}
