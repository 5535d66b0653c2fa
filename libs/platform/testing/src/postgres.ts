import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, chownSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';

const run = promisify(execFile);

export interface StartedPostgres {
  /** A superuser URL on the server's `postgres` database, for creating and dropping test databases. */
  adminUrl: string;
  /** Stops the server if this process started it (a DATABASE_URL server is left alone). */
  stop(): Promise<void>;
}

export interface TestDatabase {
  url: string;
  /** Terminates the database's connections and drops it. */
  drop(): Promise<void>;
}

/** What a started local cluster leaves on disk so that later test files in the same process reuse it. */
interface ClusterState {
  adminUrl: string;
  baseDir: string;
  stopCommand: string[];
  watchdogPid?: number;
}

const INSTALL_HINT =
  'No PostgreSQL available for tests. Set DATABASE_URL=postgres://user@host:port/postgres (a superuser URL), ' +
  'or install PostgreSQL so that initdb and pg_ctl can be found (Debian/Ubuntu: apt-get install -y postgresql), ' +
  'or run a Docker engine for testcontainers.';

let started: Promise<StartedPostgres> | null = null;

/**
 * startPostgres gives a PostgreSQL server for tests: DATABASE_URL when set; otherwise a throwaway
 * cluster from the local initdb/pg_ctl (shared by the whole process and removed when it exits);
 * otherwise a testcontainers PostgreSQL; otherwise it throws an Error saying what to install.
 */
export function startPostgres(): Promise<StartedPostgres> {
  started ??= start().catch((error: unknown) => {
    started = null;
    throw error;
  });
  return started;
}

async function start(): Promise<StartedPostgres> {
  const fromEnv = process.env.DATABASE_URL;
  if (fromEnv) return { adminUrl: fromEnv, stop: async () => undefined };

  const reused = await reuseCluster();
  if (reused) return reused;

  const binDir = findPostgresBin();
  if (binDir) return startCluster(binDir);

  const container = await startContainer();
  if ('adminUrl' in container) return container;

  throw new Error(`${INSTALL_HINT} (testcontainers: ${container.unavailable})`);
}

/**
 * createTestDatabase creates a database with a unique name (`<prefix>_<random>`) on the test
 * server, so test files running in parallel never see each other's data.
 */
export async function createTestDatabase(prefix = 'custos_test'): Promise<TestDatabase> {
  if (!/^[a-z_][a-z0-9_]{0,40}$/.test(prefix)) throw new RangeError(`prefix must be a short lower-case identifier, got ${prefix}`);
  const { adminUrl } = await startPostgres();
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  for (let attempt = 1; ; attempt++) {
    try {
      await withAdmin(adminUrl, (client) => client.query(`CREATE DATABASE "${name}"`));
      break;
    } catch (error) {
      // 55006: another session is connected to template1 (another test run creating a database).
      if ((error as { code?: string }).code !== '55006' || attempt >= 10) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
    }
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      await withAdmin(adminUrl, (client) => client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
    },
  };
}

async function withAdmin<T>(adminUrl: string, work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: adminUrl, connectionTimeoutMillis: 10_000 });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

function stateFile(): string {
  return join(tmpdir(), `custos-pg-${process.pid}.json`);
}

/**
 * Jest loads this module afresh for every test file, but all files of one worker share the
 * process: the state file, keyed by pid, lets them share one cluster instead of starting one each.
 */
async function reuseCluster(): Promise<StartedPostgres | null> {
  const file = stateFile();
  if (!existsSync(file)) return null;
  let state: ClusterState;
  try {
    state = JSON.parse(readFileSync(file, 'utf8')) as ClusterState;
    await withAdmin(state.adminUrl, (client) => client.query('SELECT 1'));
  } catch {
    rmSync(file, { force: true });
    return null;
  }
  return { adminUrl: state.adminUrl, stop: () => stopCluster(state) };
}

/** The directory of a local PostgreSQL's initdb, pg_ctl and postgres (PATH, then Debian's /usr/lib/postgresql/<version>/bin), or null. */
export function findPostgresBin(): string | null {
  const candidates: string[] = [];
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir && existsSync(join(dir, 'pg_ctl')) && existsSync(join(dir, 'initdb'))) candidates.push(dir);
  }
  const debianRoot = '/usr/lib/postgresql';
  if (existsSync(debianRoot)) {
    const versions = readdirSync(debianRoot).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a));
    candidates.push(...versions.map((v) => join(debianRoot, v, 'bin')));
  }
  for (const dir of candidates) {
    try {
      // pg_ctl looks for `postgres` next to its real location, which may differ from the PATH entry.
      const real = realpathSync(join(dir, 'pg_ctl')).replace(/\/pg_ctl$/, '');
      if (existsSync(join(real, 'postgres')) && existsSync(join(real, 'initdb'))) return real;
    } catch {
      // A dangling symlink on PATH: try the next candidate.
    }
  }
  return null;
}

/** A TCP port free on 127.0.0.1 just now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** One argument quoted for /bin/sh. */
export function shellQuote(arg: string): string {
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** PostgreSQL refuses to run as root, so as root every server command runs as the `postgres` user. */
export async function serverCommand(): Promise<{ wrap(args: string[]): string[]; uid?: number; gid?: number }> {
  if (process.getuid?.() !== 0) return { wrap: (args) => args };
  let uid: number;
  let gid: number;
  try {
    uid = Number((await run('id', ['-u', 'postgres'])).stdout.trim());
    gid = Number((await run('id', ['-g', 'postgres'])).stdout.trim());
  } catch {
    throw new Error(`${INSTALL_HINT} (Running as root: a 'postgres' user is needed to run the server; useradd postgres.)`);
  }
  const runuser = ['/usr/sbin/runuser', '/sbin/runuser', '/usr/bin/runuser'].find((p) => existsSync(p));
  const wrap = runuser
    ? (args: string[]) => [runuser, '-u', 'postgres', '--', ...args]
    : (args: string[]) => ['su', 'postgres', '-s', '/bin/sh', '-c', args.map(shellQuote).join(' ')];
  return { wrap, uid, gid };
}

async function startCluster(binDir: string): Promise<StartedPostgres> {
  const baseDir = mkdtempSync(join(tmpdir(), 'custos-pg-'));
  const dataDir = join(baseDir, 'data');
  const { wrap, uid, gid } = await serverCommand();
  if (uid !== undefined && gid !== undefined) chownSync(baseDir, uid, gid);
  const exec = async (args: string[]) => {
    const [file, ...rest] = wrap(args);
    return run(file, rest, { cwd: baseDir, timeout: 120_000 });
  };

  try {
    await exec([join(binDir, 'initdb'), '-D', dataDir, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync']);
  } catch (error) {
    rmSync(baseDir, { recursive: true, force: true });
    throw new Error(`initdb failed: ${(error as { stderr?: string }).stderr ?? String(error)}`);
  }

  const stopCommand = wrap([join(binDir, 'pg_ctl'), '-D', dataDir, '-m', 'immediate', '-w', 'stop']);
  let lastError: unknown;
  // The free port can be taken between probing and binding; a few attempts make that race moot.
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const serverOptions = [
      '-c listen_addresses=127.0.0.1',
      `-p ${port}`,
      `-c unix_socket_directories=${baseDir}`,
      // Throwaway data: durability only slows the tests down.
      '-c fsync=off -c synchronous_commit=off -c full_page_writes=off',
      '-c max_connections=300',
    ].join(' ');
    try {
      await exec([join(binDir, 'pg_ctl'), '-D', dataDir, '-l', join(baseDir, 'postgres.log'), '-o', serverOptions, '-w', '-t', '60', 'start']);
    } catch (error) {
      lastError = error;
      continue;
    }
    const state: ClusterState = {
      adminUrl: `postgres://postgres@127.0.0.1:${port}/postgres`,
      baseDir,
      stopCommand,
      watchdogPid: startWatchdog(stopCommand, baseDir),
    };
    writeFileSync(stateFile(), JSON.stringify(state));
    return { adminUrl: state.adminUrl, stop: () => stopCluster(state) };
  }
  let log = '';
  try {
    log = readFileSync(join(baseDir, 'postgres.log'), 'utf8').slice(-2000);
  } catch {
    // No log written: the error below says enough.
  }
  rmSync(baseDir, { recursive: true, force: true });
  throw new Error(`pg_ctl start failed: ${(lastError as { stderr?: string })?.stderr ?? String(lastError)}\n${log}`);
}

/**
 * A detached shell that outlives this process: when the process ends without calling stop()
 * (a killed jest worker, a crashed benchmark), it stops the server and removes its files.
 */
function startWatchdog(stopCommand: string[], baseDir: string): number | undefined {
  const script = [
    `while kill -0 ${process.pid} 2>/dev/null; do sleep 1; done`,
    `${stopCommand.map(shellQuote).join(' ')} >/dev/null 2>&1`,
    `rm -rf ${shellQuote(baseDir)} ${shellQuote(stateFile())}`,
  ].join('; ');
  const child = spawn('/bin/sh', ['-c', script], { detached: true, stdio: 'ignore' });
  child.unref();
  return child.pid;
}

async function stopCluster(state: ClusterState): Promise<void> {
  if (state.watchdogPid) {
    try {
      process.kill(state.watchdogPid);
    } catch {
      // Already gone.
    }
  }
  const [file, ...args] = state.stopCommand;
  try {
    await run(file, args, { timeout: 60_000 });
  } catch {
    // Already stopped: removing the files is all that is left to do.
  }
  rmSync(state.baseDir, { recursive: true, force: true });
  rmSync(stateFile(), { force: true });
  started = null;
}

async function startContainer(): Promise<StartedPostgres | { unavailable: string }> {
  try {
    const { getContainerRuntimeClient } = await import('testcontainers');
    await getContainerRuntimeClient();
  } catch (error) {
    // No engine, or a testcontainers release that does not load on this Node version.
    return { unavailable: error instanceof Error ? error.message : String(error) };
  }
  const { PostgreSqlContainer } = await import('@testcontainers/postgresql');
  const container = await new PostgreSqlContainer('postgres:16-alpine')
    .withCommand(['postgres', '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'max_connections=300'])
    .start();
  return {
    adminUrl: container.getConnectionUri(),
    stop: async () => {
      await container.stop();
      started = null;
    },
  };
}
