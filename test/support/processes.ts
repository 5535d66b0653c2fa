import { ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import * as path from 'node:path';
import { eventually } from '@custos/platform/testing';

const ROOT = path.resolve(__dirname, '../..');

export interface RunningProcess {
  name: string;
  url: string;
  pid: number | undefined;
  output(): string;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** A free TCP port on loopback. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/**
 * Starts one Custos entry point as its own OS process (as an operator would, through
 * @swc-node/register), and waits until its /health answers 200. `root` is the checkout it runs
 * from: this one, or another build that a benchmark compares against (`--versus`).
 */
export async function startProcess(
  name: string,
  entry: string,
  env: Record<string, string | undefined>,
  readyTimeoutMs = 60_000,
  root = ROOT,
): Promise<RunningProcess> {
  const port = await freePort();
  const childEnv: NodeJS.ProcessEnv = { ...process.env, PORT: String(port), LOG_LEVEL: 'warn' };
  for (const [key, value] of Object.entries(env)) {
    if (value === undefined) delete childEnv[key];
    else childEnv[key] = value;
  }
  // e.g. CUSTOS_CHILD_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof' to profile the services of a benchmark or test.
  const nodeArgs = process.env.CUSTOS_CHILD_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
  const child: ChildProcess = spawn(process.execPath, [...nodeArgs, '-r', '@swc-node/register', entry], { cwd: root, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (chunk) => (output += chunk));
  child.stderr?.on('data', (chunk) => (output += chunk));
  let exited = false;
  child.once('exit', () => (exited = true));
  const url = `http://127.0.0.1:${port}`;
  try {
    await eventually(
      async () => {
        if (exited) throw new Error(`${name} exited:\n${output}`);
        const response = await fetch(`${url}/health`);
        return response.status === 200;
      },
      { timeoutMs: readyTimeoutMs, intervalMs: 200, what: `${name} /health` },
    );
  } catch (error) {
    child.kill('SIGKILL');
    throw new Error(`${name} did not become healthy: ${(error as Error).message}\n--- output ---\n${output}`);
  }
  return {
    name,
    url,
    pid: child.pid,
    output: () => output,
    stop: (signal = 'SIGTERM') =>
      new Promise<void>((resolve) => {
        if (exited) return resolve();
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        child.kill(signal);
      }),
  };
}
