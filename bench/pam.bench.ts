/**
 * Privileged access benchmark: how long just-in-time database accounts take to appear and to be
 * cut off, and what the vault's envelope encryption costs, each beside a same-run baseline.
 *
 *   npm run bench:pam          (DATABASE_URL for the store, or a throwaway local cluster; the
 *                               target is a PostgreSQL cluster of its own that checks passwords)
 *
 * - grant start -> working login: from the entitlement context's AccessGranted reaching the
 *   privileged context's consumer (the inbox claim, JitAccountRequested, the sealed password, the
 *   job) through the durable scheduler's job (polling every 100 ms, as the service does) making
 *   the role, the credential delivered, to a new connection as the role answering SELECT 1.
 *   Baseline: CREATE ROLE ... IN ROLE + connect + SELECT 1 by hand on the same server.
 * - revoke -> open session terminated: a session held open as the role; from AccessRevoked
 *   reaching the consumer to the session's socket closed by the server (the drop job: NOLOGIN,
 *   pg_terminate_backend, DROP ROLE). Leaver: the same for an identity holding three such grants,
 *   until all three sessions are closed. Baseline: pg_terminate_backend of a session's pid by hand
 *   until its socket closes.
 * - vault: seal + unseal (a fresh data key, AES-256-GCM, wrapped by the KEK, and back) of a
 *   32-byte password, operations per second; baseline: AES-256-GCM encrypt + decrypt of the same
 *   bytes with one fixed key.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { createPgDatabase, SqlEventStore, type CustosEvent } from '../libs/platform/event-store/src';
import { InProcessBus } from '../libs/platform/messaging/src';
import { createLogger, migrateContext, readConfig, type ContextRuntime } from '../libs/platform/runtime/src';
import { createTestDatabase } from '../libs/platform/testing/src/postgres';
import { PostgresConnector } from '../libs/privileged/application/src/connectors/postgresql-connector';
import { createPrivilegedContext } from '../libs/privileged/application/src/privileged-context';
import { startTargetPostgres, type TargetPostgres } from '../libs/privileged/testing/src/target-postgres';
import { seal, unseal } from '../libs/privileged/application/src/vault/envelope';
import { FileKeyEncryptionKey } from '../libs/privileged/application/src/vault/file-kek';

const GRANTS = Number(process.env.BENCH_PAM_GRANTS ?? 40);
const LEAVERS = Number(process.env.BENCH_PAM_LEAVERS ?? 10);
const VAULT_MS = 2000;

let sequence = 0;
function entitlementEvent(name: string, subject: string, data: object): CustosEvent {
  sequence += 1;
  const now = new Date().toISOString();
  return { specversion: '1.0', id: `bench-${sequence}-${randomBytes(4).toString('hex')}`, source: '/custos/entitlement', type: `custos.entitlement.${name}.v1`, subject, time: now, datacontenttype: 'application/json', data, streamversion: 1, globalposition: String(sequence), correlationid: 'bench', causationid: 'bench', actor: 'bench', name };
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

const ms = (v: number) => `${v.toFixed(1)} ms`;

function row(name: string, custos: number[], baseline: number[]): string {
  const [c50, c99, b50, b99] = [percentile(custos, 50), percentile(custos, 99), percentile(baseline, 50), percentile(baseline, 99)];
  return `${name.padEnd(40)} p50 ${ms(c50).padStart(10)}  p99 ${ms(c99).padStart(10)}   baseline p50 ${ms(b50).padStart(9)}  p99 ${ms(b99).padStart(9)}   ratio p50 ${(c50 / b50).toFixed(1)}x  p99 ${(c99 / b99).toFixed(1)}x`;
}

async function connectAs(target: TargetPostgres, user: string, password: string): Promise<Client> {
  const client = new Client({ host: target.host, port: target.port, user, password, database: target.database });
  client.on('error', () => undefined);
  await client.connect();
  return client;
}

function closed(client: Client): Promise<number> {
  return new Promise((resolve) => client.on('end', () => resolve(performance.now())));
}

async function main(): Promise<void> {
  const target = await startTargetPostgres();
  const store = await createTestDatabase('custos_bench_pam');
  const db = createPgDatabase(store.url, { max: 10, applicationName: 'bench-pam' });
  const connector = new PostgresConnector();
  const role = 'bench_ro';
  await target.admin((c) => c.query(`CREATE ROLE ${role} NOLOGIN`));
  try {
    const schema = 'privileged';
    const eventStore = await SqlEventStore.open(db, { context: 'privileged', schema });
    const runtime: ContextRuntime = { context: 'privileged', db, store: eventStore, bus: new InProcessBus(), clock: () => new Date(), logger: createLogger(readConfig({ LOG_LEVEL: 'warn' }), 'bench'), publicUrl: '' };
    const kek = new FileKeyEncryptionKey([{ id: 'k1', key: randomBytes(32) }]);
    const context = createPrivilegedContext(runtime, { kek, schema, connectors: { postgresql: connector }, reconcileEveryMs: 3600_000 });
    await migrateContext(db, schema, [context.inbox, context.vault, context.links, context.view, context.scheduler].map((t) => (x) => t.migrate(x)));
    await context.workers.start();
    await context.targets.register({ key: 'bench-pg', kind: 'postgresql', host: target.host, port: target.port, database: target.database, adminCredential: { username: target.adminUsername, password: target.adminPassword } }, { actor: 'bench' });
    await context.jit.onEntitlementEvent(
      entitlementEvent('EntitlementDefined', 'entitlement-bench:ro', { key: 'bench:ro', application: 'bench', name: 'bench', privileged: false, risk: 'low', breakGlass: false, approvalPolicy: { steps: [] }, definedAt: new Date().toISOString(), definedBy: 'bench', target: 'bench-pg', targetRole: role }),
    );
    const expiresAt = () => new Date(Date.now() + 3600_000).toISOString();
    const grant = async (identityId: string, grantId: string) => {
      await context.jit.onEntitlementEvent(entitlementEvent('AccessGranted', `access-${identityId}`, { grantId, identityId, entitlement: 'bench:ro', source: 'admin', grantedAt: new Date().toISOString(), expiresAt: expiresAt(), reason: 'bench' }));
      for (;;) {
        try {
          return await context.jit.deliver(identityId, grantId, { actor: identityId });
        } catch (error) {
          if ((error as { code?: string }).code !== 'credential-not-ready') throw error;
          await new Promise((resolve) => setTimeout(resolve, 2));
        }
      }
    };
    const revoke = (identityId: string, grantId: string, reason: string) =>
      context.jit.onEntitlementEvent(entitlementEvent('AccessRevoked', `access-${identityId}`, { grantId, identityId, entitlement: 'bench:ro', source: 'admin', reason, revokedAt: new Date().toISOString() }));

    const toLogin: number[] = [];
    const rawLogin: number[] = [];
    const toCut: number[] = [];
    const rawCut: number[] = [];
    const leaverCut: number[] = [];
    const admin = await connectAs(target, target.adminUsername, target.adminPassword);
    // Warm-up: pools, prepared paths, the JIT.
    for (let i = 0; i < 3; i++) {
      const credential = await grant(`warm-${i}`, `warm-${i}`);
      await (await connectAs(target, credential.username, credential.password)).end();
      await revoke(`warm-${i}`, `warm-${i}`, 'admin');
    }
    for (let i = 0; i < GRANTS; i++) {
      // Custos: grant start -> SELECT 1 as the new role.
      const started = performance.now();
      const credential = await grant(`id-${i}`, `grant-${i}`);
      const session = await connectAs(target, credential.username, credential.password);
      await session.query('SELECT 1');
      toLogin.push(performance.now() - started);
      // Custos: revoke -> that session's socket closed by the server.
      const end = closed(session);
      const revokedAt = performance.now();
      await revoke(`id-${i}`, `grant-${i}`, 'request-revoked');
      toCut.push((await end) - revokedAt);

      // Baseline: the same by hand, alternating so drift hits both.
      const user = `bench_raw_${i}`;
      const password = randomBytes(24).toString('base64url');
      const rawStarted = performance.now();
      await admin.query(`CREATE ROLE ${user} LOGIN PASSWORD '${password}' IN ROLE ${role}`);
      const raw = await connectAs(target, user, password);
      await raw.query('SELECT 1');
      rawLogin.push(performance.now() - rawStarted);
      const rawEnd = closed(raw);
      const pid = (await raw.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0].pid;
      const terminateAt = performance.now();
      await admin.query('SELECT pg_terminate_backend($1)', [pid]);
      rawCut.push((await rawEnd) - terminateAt);
      await admin.query(`DROP ROLE ${user}`);
    }
    for (let i = 0; i < LEAVERS; i++) {
      const who = `leaver-${i}`;
      const sessions: Client[] = [];
      for (let g = 0; g < 3; g++) {
        const credential = await grant(who, `${who}-g${g}`);
        sessions.push(await connectAs(target, credential.username, credential.password));
      }
      const ends = sessions.map(closed);
      const leftAt = performance.now();
      for (let g = 0; g < 3; g++) await revoke(who, `${who}-g${g}`, 'leaver');
      leaverCut.push(Math.max(...(await Promise.all(ends))) - leftAt);
    }
    await admin.end();

    // Vault: seal + unseal against raw AES-256-GCM of the same bytes.
    const secret = Buffer.from(randomBytes(24).toString('base64url'));
    let sealed = 0;
    const sealStart = performance.now();
    while (performance.now() - sealStart < VAULT_MS) {
      const box = await seal(kek, secret, 'bench#1');
      await unseal(kek, box, 'bench#1');
      sealed++;
    }
    const sealRate = (sealed * 1000) / (performance.now() - sealStart);
    const key = randomBytes(32);
    let raw = 0;
    const rawStart = performance.now();
    while (performance.now() - rawStart < VAULT_MS) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      const ct = Buffer.concat([cipher.update(secret), cipher.final()]);
      const decipher = createDecipheriv('aes-256-gcm', key, iv);
      decipher.setAuthTag(cipher.getAuthTag());
      Buffer.concat([decipher.update(ct), decipher.final()]);
      raw++;
    }
    const rawRate = (raw * 1000) / (performance.now() - rawStart);

    console.log(`\nbench:pam  ${GRANTS} grants, ${LEAVERS} leavers x 3 accounts; store ${store.url.replace(/\/\/[^@]*@/, '//')}; target PostgreSQL on ${target.host}:${target.port}\n`);
    console.log(row('grant start -> working login', toLogin, rawLogin) + '   (baseline: CREATE ROLE + connect + SELECT 1)');
    console.log(row('revoke -> open session terminated', toCut, rawCut) + '   (baseline: pg_terminate_backend round trip)');
    console.log(row('leaver (3 accounts) -> all sessions cut', leaverCut, rawCut) + '   (baseline: pg_terminate_backend round trip)');
    console.log(`${'vault seal+unseal (32 B)'.padEnd(40)} ${Math.round(sealRate).toLocaleString('en')} ops/s   baseline raw AES-256-GCM ${Math.round(rawRate).toLocaleString('en')} ops/s   ratio ${(sealRate / rawRate).toFixed(2)}x`);
    const p99 = Math.max(percentile(toCut, 99), percentile(leaverCut, 99));
    console.log(`\ntarget: revoke/leaver -> session terminated p99 under 1 s: ${p99 < 1000 ? 'met' : 'MISSED'} (${ms(p99)})`);
    await context.workers.stop();
  } finally {
    await connector.close();
    await db.close();
    await store.drop();
    await target.stop();
  }
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
