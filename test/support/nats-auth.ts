import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { startNatsServer, type OwnNats } from '@custos/platform/testing';
import { createUser } from '@nats-io/nkeys';

/** The users of deploy/nats/custos-auth.conf (the four services and an HR system), and the test's admin. */
export const NATS_USERS = ['identity', 'entitlement', 'request', 'audit', 'privileged', 'hr', 'admin'] as const;
export type NatsUser = (typeof NATS_USERS)[number];

export const AUTH_CONFIG_FILE = path.resolve(__dirname, '../../deploy/nats/custos-auth.conf');

/**
 * namespacedAuthConfig puts the subjects and stream names of a nats-server configuration (the
 * text of deploy/nats/custos-auth.conf) in a bus namespace, as CUSTOS_NAMESPACE puts the
 * services': `evt.`/`rpc.`/`dlq.`/`hr.` subjects get `<ns>.` before them, streams `CUSTOS_X`
 * (in `$JS.` API and ack subjects) become `<NS>_CUSTOS_X`, and a consumer's filter subject inside
 * its create subject is prefixed as well. Inbox prefixes stay. An empty namespace changes nothing.
 */
export function namespacedAuthConfig(config: string, namespace: string): string {
  if (namespace === '') return config;
  return config.replace(/"([^"\s]+)"/g, (_quoted, subject: string) => {
    let s = subject;
    if (s.startsWith('$JS.')) s = s.replace(/\.CUSTOS_/g, `.${namespace.toUpperCase()}_CUSTOS_`);
    s = s.replace(/(^|\.)(evt|rpc|dlq|hr)\./g, `$1${namespace}.$2.`);
    return `"${s}"`;
  });
}

export interface NatsKeys {
  /** The public keys, as the server's environment names them (`CUSTOS_NATS_IDENTITY_NKEY`). */
  serverEnv: Record<string, string>;
  /** Each user's seed file (what NATS_CREDS_FILE names). */
  seedFiles: Record<NatsUser, string>;
  seeds: Record<NatsUser, string>;
  dispose(): void;
}

/** createNatsKeys makes an nkey user per NATS_USERS entry, the seeds in files only their owner may read, as deploy/nats/make-nkeys.js does. */
export function createNatsKeys(): NatsKeys {
  const dir = mkdtempSync(path.join(tmpdir(), 'custos-nkeys-'));
  const serverEnv: Record<string, string> = {};
  const seedFiles = {} as Record<NatsUser, string>;
  const seeds = {} as Record<NatsUser, string>;
  for (const user of NATS_USERS) {
    const kp = createUser();
    seeds[user] = new TextDecoder().decode(kp.getSeed());
    seedFiles[user] = path.join(dir, `${user}.nk`);
    writeFileSync(seedFiles[user], `${seeds[user]}\n`, { mode: 0o600 });
    chmodSync(seedFiles[user], 0o600);
    serverEnv[`CUSTOS_NATS_${user.toUpperCase()}_NKEY`] = kp.getPublicKey();
  }
  return { serverEnv, seedFiles, seeds, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface PermissionedNats extends OwnNats {
  keys: NatsKeys;
  namespace: string;
  /** The server log's permission violations so far, as `Publish Violation - User identity, Subject "x.y"`. */
  violations(): string[];
}

/**
 * startPermissionedNats starts a nats-server of the test's own with deploy/nats/custos-auth.conf
 * in `namespace`, and fresh keys; plus, for the test's own look at the streams, a user `admin`
 * (CUSTOS_NATS_ADMIN_NKEY) without restrictions, which the deployed configuration does not have.
 */
export async function startPermissionedNats(namespace: string): Promise<PermissionedNats> {
  const keys = createNatsKeys();
  const deployed = namespacedAuthConfig(readFileSync(AUTH_CONFIG_FILE, 'utf8'), namespace);
  if (!/^    users: \[$/m.test(deployed)) throw new Error(`${AUTH_CONFIG_FILE}: no "users: [" line to add the test's admin to`);
  const config = deployed.replace(/^    users: \[$/m, '    users: [\n      { nkey: $CUSTOS_NATS_ADMIN_NKEY }');
  let server: OwnNats;
  try {
    server = await startNatsServer({ config, env: keys.serverEnv });
  } catch (error) {
    keys.dispose();
    throw error;
  }
  return {
    ...server,
    keys,
    namespace,
    violations: () => {
      const users = new Map(Object.entries(keys.serverEnv).map(([name, key]) => [key, name.replace(/^CUSTOS_NATS_|_NKEY$/g, '').toLowerCase()]));
      // `... - Publish Violation - Nkey "UABC...", Subject "x.y"`: named by the user the key is.
      return server
        .log()
        .split('\n')
        .filter((line) => / Violation - (User|Nkey) /.test(line))
        .map((line) => line.slice(line.lastIndexOf(' - ', line.indexOf(' Violation - ')) + 3).replace(/(?:User|Nkey) "(\w+)"/, (_all, key: string) => `User ${users.get(key) ?? key}`));
    },
    stop: async () => {
      await server.stop();
      keys.dispose();
    },
  };
}
