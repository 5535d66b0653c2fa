import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { freePort, startProcess } from './support/processes';

const ROOT = path.resolve(__dirname, '..');

/** Runs `npm start` with `env` until it exits or `timeoutMs` passes; its exit code and output. */
function npmStart(env: Record<string, string>, timeoutMs = 90_000): Promise<{ code: number | null; output: string }> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'custos-devauth-'));
  const childEnv: NodeJS.ProcessEnv = { ...process.env, CUSTOS_DATA_DIR: dataDir, LOG_LEVEL: 'warn', ...env };
  for (const key of ['DATABASE_URL', 'NATS_URL', 'CUSTOS_OIDC_ISSUER', 'CUSTOS_DEV_AUTH', 'NODE_ENV']) if (!(key in env)) delete childEnv[key];
  return new Promise((resolve) => {
    const child = spawn('npm', ['start', '--silent'], { cwd: ROOT, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      rmSync(dataDir, { recursive: true, force: true });
      resolve({ code, output });
    });
  });
}

/** The IPv4 addresses listening on `port`, from /proc/net/tcp (state 0A is LISTEN). */
function listeningAddresses(port: number): string[] {
  return readFileSync('/proc/net/tcp', 'utf8')
    .split('\n')
    .slice(1)
    .map((line) => line.trim().split(/\s+/))
    .filter((fields) => fields.length > 3 && fields[3] === '0A' && parseInt(fields[1].split(':')[1], 16) === port)
    .map((fields) => {
      const hex = fields[1].split(':')[0];
      return [3, 2, 1, 0].map((i) => parseInt(hex.slice(i * 2, i * 2 + 2), 16)).join('.');
    });
}

describe('the development issuer cannot be left on by accident', () => {
  it('npm start with CUSTOS_DEV_AUTH set to empty does not turn it on (it was on): no issuer, so it refuses to start', async () => {
    const { code, output } = await npmStart({ CUSTOS_DEV_AUTH: '', PORT: String(await freePort()) });
    expect(code).not.toBe(0);
    expect(output).toContain('no token issuer');
  });

  it('refuses to start with CUSTOS_DEV_AUTH=true and NODE_ENV=production, even with an OIDC issuer', async () => {
    const { code, output } = await npmStart({ CUSTOS_DEV_AUTH: 'true', NODE_ENV: 'production', CUSTOS_OIDC_ISSUER: 'https://idp.example.com', PORT: String(await freePort()) });
    expect(code).not.toBe(0);
    expect(output).toContain('NODE_ENV=production');
  });

  it('listens on loopback only while it is on', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'custos-devauth-'));
    const custos = await startProcess('custos', 'apps/custos/src/main.ts', { CUSTOS_DATA_DIR: dataDir, CUSTOS_DEV_AUTH: 'true', DATABASE_URL: undefined, NATS_URL: undefined, CUSTOS_OIDC_ISSUER: undefined, HOST: undefined });
    try {
      const port = new URL(custos.url).port;
      expect((await fetch(`http://127.0.0.1:${port}/health/live`)).status).toBe(200);
      // The kernel's table of listening sockets says which address it is bound to (no traffic sent).
      expect(listeningAddresses(Number(port))).toEqual(['127.0.0.1']);
    } finally {
      await custos.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
