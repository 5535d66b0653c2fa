import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { accessSync, constants, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';

export interface StartedNats {
  /** `nats://host:port` of a server with JetStream enabled. */
  url: string;
  /** Stops a server this process started; a no-op for NATS_URL. */
  stop(): Promise<void>;
}

const INSTALL_HINT =
  'No NATS server for tests: set NATS_URL=nats://host:4222, or install one (`apt-get install -y nats-server`, ' +
  'or put the nats-server binary on PATH), or run a Docker engine for testcontainers.';
const READY_TIMEOUT_MS = 15_000;

let started: Promise<StartedNats> | undefined;

/**
 * startNats returns a JetStream-enabled NATS server for tests, once per process: `NATS_URL`
 * when set, else a `nats-server` from PATH on a free port with storage in a temp dir, else a
 * `nats:2.10` container when a Docker engine answers; otherwise it throws saying what to install.
 */
export function startNats(): Promise<StartedNats> {
  started ??= resolveNats().catch((error: unknown) => {
    started = undefined;
    throw error;
  });
  return started;
}

export interface OwnNats extends StartedNats {
  /** What the server has logged so far (its `Permissions Violation` lines, say). */
  log(): string;
}

/**
 * startNatsServer starts a `nats-server` from PATH of this test's own (never the shared one of
 * startNats), on a free port with JetStream and storage in a temp dir, reading `config` (the text
 * of a nats-server configuration file) with `env` in its environment (for the `$VARIABLE`s the
 * configuration names). Needs the binary: no container fallback.
 */
export async function startNatsServer(options: { config: string; env?: Record<string, string> }): Promise<OwnNats> {
  const binary = findOnPath('nats-server');
  if (!binary) throw new Error(INSTALL_HINT);
  return spawnNatsServer(binary, options);
}

/** randomNamespace returns a fresh bus namespace (`t` + 8 hex digits) so test runs never share subjects or streams. */
export function randomNamespace(): string {
  return `t${randomBytes(4).toString('hex')}`;
}

/**
 * removeNamespaceStreams deletes the JetStream streams of a bus namespace: what a test or a
 * benchmark created on a server that outlives it (NATS_URL), which would otherwise keep its
 * messages on that server's disk.
 */
export async function removeNamespaceStreams(jsm: JetStreamManager, namespace: string): Promise<void> {
  const prefix = `${namespace.toUpperCase()}_`;
  const names: string[] = [];
  for await (const name of jsm.streams.names()) if (name.startsWith(prefix)) names.push(name);
  for (const name of names) await jsm.streams.delete(name);
}

/** removeNamespaceStreams on the server at `url`, over a connection of its own. */
export async function removeNamespaceStreamsAt(url: string, namespace: string): Promise<void> {
  const nc = await connect({ servers: url, name: 'custos-test-cleanup' });
  try {
    await removeNamespaceStreams(await jetstreamManager(nc), namespace);
  } finally {
    await nc.drain();
  }
}

async function resolveNats(): Promise<StartedNats> {
  const fromEnv = process.env['NATS_URL']?.trim();
  if (fromEnv) return { url: fromEnv, stop: async () => undefined };
  const binary = findOnPath('nats-server');
  if (binary) return spawnNatsServer(binary);
  const container = await startContainer();
  if ('url' in container) return container;
  throw new Error(`${INSTALL_HINT} (testcontainers: ${container.unavailable})`);
}

function findOnPath(command: string): string | undefined {
  // sbin directories are often missing from a user's PATH, and Debian's package installs there.
  const dirs = [...(process.env['PATH'] ?? '').split(delimiter), '/usr/sbin', '/usr/local/sbin', '/usr/local/bin'];
  for (const dir of dirs.filter(Boolean)) {
    const candidate = join(dir, command);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

async function spawnNatsServer(binary: string, own?: { config: string; env?: Record<string, string> }): Promise<OwnNats> {
  let lastError: unknown;
  // Another process can take the free port between probing and binding: try a few.
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'custos-nats-'));
    const logFile = join(dir, 'nats-server.log');
    const args = ['-js', '-sd', join(dir, 'jetstream'), '-a', '127.0.0.1', '-p', String(port), '-l', logFile];
    if (own) {
      writeFileSync(join(dir, 'nats-server.conf'), own.config);
      args.unshift('-c', join(dir, 'nats-server.conf'));
    }
    const child = spawnWatched(binary, args, dir, own?.env);
    const log = () => {
      try {
        return readFileSync(logFile, 'utf8');
      } catch {
        return '';
      }
    };
    const killOnExit = () => child.kill('SIGTERM');
    process.once('exit', killOnExit);
    const stop = async () => {
      process.removeListener('exit', killOnExit);
      await terminate(child);
      rmSync(dir, { recursive: true, force: true });
      if (!own) started = undefined;
    };
    try {
      await waitForJetStream(port, child);
      return { url: `nats://127.0.0.1:${port}`, stop, log };
    } catch (error) {
      lastError = new Error(`nats-server (${binary}) did not start on port ${port}: ${(error as Error).message}\n${log().slice(-2_000)}`);
      await stop();
    }
  }
  throw lastError;
}

/**
 * The server runs under a small shell that kills it (and removes its temp dir) when this process
 * goes away, even when a test runner kills this process with SIGKILL, so no nats-server outlives
 * its test run.
 */
function spawnWatched(binary: string, args: string[], dir: string, env: Record<string, string> = {}): ChildProcess {
  if (process.platform === 'win32') return spawn(binary, args, { stdio: 'ignore', env: { ...process.env, ...env } });
  const script = [
    '"$0" "$@" & server=$!',
    `cleanup() { kill $server 2>/dev/null; wait $server; rm -rf "$CUSTOS_NATS_DIR"; }`,
    `trap 'cleanup; exit 0' TERM INT`,
    `while kill -0 $server 2>/dev/null && kill -0 ${process.pid} 2>/dev/null; do sleep 1 & wait $!; done`,
    'cleanup',
  ].join('\n');
  const child = spawn('sh', ['-c', script, binary, ...args], { stdio: 'ignore', env: { ...process.env, ...env, CUSTOS_NATS_DIR: dir } });
  child.unref();
  return child;
}

function terminate(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => child.kill('SIGKILL'), 5_000);
    child.once('exit', () => {
      clearTimeout(force);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

async function waitForJetStream(port: number, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`exited with code ${child.exitCode}`);
    // The INFO line a server sends on connect says whether JetStream is up yet.
    const info = await readInfo(port).catch(() => undefined);
    if (info?.includes('"jetstream":true')) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`no JetStream-enabled INFO within ${READY_TIMEOUT_MS} ms`);
}

function readInfo(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tcpConnect({ host: '127.0.0.1', port });
    let text = '';
    const finish = (error?: Error) => {
      socket.destroy();
      if (error) reject(error);
      else resolve(text);
    };
    socket.setTimeout(1_000, () => finish(new Error('timeout')));
    socket.on('error', finish);
    socket.on('data', (chunk) => {
      text += chunk.toString('utf8');
      if (text.includes('\n')) finish();
    });
  });
}

async function startContainer(): Promise<StartedNats | { unavailable: string }> {
  let testcontainers: typeof import('testcontainers');
  try {
    // Loading can itself fail (its HTTP client needs a newer Node than 20 for zstd), not only finding Docker.
    testcontainers = await import('testcontainers');
    await testcontainers.getContainerRuntimeClient();
  } catch (error) {
    return { unavailable: error instanceof Error ? error.message.split('\n')[0] : String(error) };
  }
  const { GenericContainer, Wait } = testcontainers;
  const container = await new GenericContainer('nats:2.10')
    .withCommand(['-js'])
    .withExposedPorts(4222)
    .withWaitStrategy(Wait.forLogMessage(/Server is ready/))
    .start();
  return {
    url: `nats://${container.getHost()}:${container.getMappedPort(4222)}`,
    stop: async () => {
      await container.stop();
      started = undefined;
    },
  };
}
