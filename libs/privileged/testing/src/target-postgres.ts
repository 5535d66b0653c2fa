import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { findPostgresBin, freePort, serverCommand, shellQuote } from '@custos/platform/testing';

const run = promisify(execFile);

/** A PostgreSQL server of a test's own that checks passwords (SCRAM-SHA-256 for TCP logins), to stand as a managed target. */
export interface TargetPostgres {
  host: string;
  port: number;
  /** The superuser and its password, as a target's admin credential. */
  adminUsername: string;
  adminPassword: string;
  /** A database made for the test on it. */
  database: string;
  /** Runs SQL as the superuser on `database`. */
  admin<R>(work: (client: Client) => Promise<R>): Promise<R>;
  /** Connects as `user` with `password` to `database` (throws when the server refuses). */
  connect(user: string, password: string): Promise<Client>;
  stop(): Promise<void>;
}

const INSTALL_HINT =
  'The privileged tests need a PostgreSQL that checks passwords, which a shared trust-auth server does not: install PostgreSQL so that initdb and pg_ctl can be found (Debian/Ubuntu: apt-get install -y postgresql)';

/**
 * startTargetPostgres starts a throwaway PostgreSQL cluster (initdb and pg_ctl from the local
 * installation, as the `postgres` user when running as root) with password authentication on
 * TCP, creates a database `custos_pam_test_<random>` on it, and stops and removes it all on
 * stop() (or, should the test process die, by a watchdog). The Custos store stays wherever
 * DATABASE_URL says; this server plays the managed system, where passwords must matter.
 */
export async function startTargetPostgres(): Promise<TargetPostgres> {
  const bin = findPostgresBin();
  if (!bin) throw new Error(INSTALL_HINT);
  const wrap = await serverCommand();
  const base = mkdtempSync(join(tmpdir(), 'custos-pam-pg-'));
  const data = join(base, 'data');
  const adminPassword = randomBytes(18).toString('base64url');
  writeFileSync(join(base, 'pw'), adminPassword);
  if (wrap.uid !== undefined) chownSync(base, wrap.uid, wrap.gid!);
  if (wrap.uid !== undefined) chownSync(join(base, 'pw'), wrap.uid, wrap.gid!);
  const exec = (args: string[]) => {
    const [file, ...rest] = wrap.wrap(args);
    return run(file, rest, { cwd: base, timeout: 120_000 });
  };
  await exec([join(bin, 'initdb'), '-D', data, '-U', 'postgres', '--pwfile', join(base, 'pw'), '--auth-local=trust', '--auth-host=scram-sha-256', '-E', 'UTF8', '--locale=C', '--no-sync']);
  rmSync(join(base, 'pw'));
  const stopCommand = wrap.wrap([join(bin, 'pg_ctl'), '-D', data, '-m', 'immediate', '-w', 'stop']);
  let port = 0;
  for (let attempt = 0; ; attempt++) {
    port = await freePort();
    const options = `-c listen_addresses=127.0.0.1 -p ${port} -c unix_socket_directories=${base} -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200`;
    try {
      await exec([join(bin, 'pg_ctl'), '-D', data, '-l', join(base, 'postgres.log'), '-o', options, '-w', '-t', '60', 'start']);
      break;
    } catch (error) {
      if (attempt >= 2) throw error;
    }
  }
  const watchdog = spawn('/bin/sh', ['-c', `while kill -0 ${process.pid} 2>/dev/null; do sleep 1; done; ${stopCommand.map(shellQuote).join(' ')} >/dev/null 2>&1; rm -rf ${shellQuote(base)}`], {
    detached: true,
    stdio: 'ignore',
  });
  watchdog.unref();
  const database = `custos_pam_test_${randomBytes(5).toString('hex')}`;
  const client = (user: string, password: string, db: string) => new Client({ host: '127.0.0.1', port, user, password, database: db, connectionTimeoutMillis: 10_000 });
  const setup = client('postgres', adminPassword, 'postgres');
  await setup.connect();
  await setup.query(`CREATE DATABASE ${database}`);
  await setup.end();
  return {
    host: '127.0.0.1',
    port,
    adminUsername: 'postgres',
    adminPassword,
    database,
    async admin(work) {
      const c = client('postgres', adminPassword, database);
      await c.connect();
      try {
        return await work(c);
      } finally {
        await c.end();
      }
    },
    async connect(user, password) {
      const c = client(user, password, database);
      // A session the server ends under it (pg_terminate_backend) must not crash the test process.
      c.on('error', () => undefined);
      await c.connect();
      return c;
    },
    async stop() {
      try {
        process.kill(watchdog.pid!);
      } catch {
        // gone already
      }
      const [file, ...args] = stopCommand;
      await run(file, args, { timeout: 60_000 }).catch(() => undefined);
      rmSync(base, { recursive: true, force: true });
    },
  };
}

