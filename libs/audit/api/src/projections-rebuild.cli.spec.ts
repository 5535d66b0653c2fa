import { PassThrough } from 'node:stream';
import { AuditLog } from '@custos/audit/application';
import { createPgDatabase, type SqlDatabase } from '@custos/platform/event-store';
import { createTestDatabase } from '@custos/platform/testing';
import { accessTerminated, granted, hired, revoked, terminated } from '@custos/audit/application/testing';
import { runProjectionsRebuild } from './projections-rebuild.cli';

function io(url: string) {
  let out = '';
  let err = '';
  const stderr = new PassThrough();
  stderr.on('data', (chunk) => (err += chunk));
  return { io: { stdout: { write: (text: string) => (out += text) }, stderr, env: { DATABASE_URL: url } }, out: () => out, err: () => err };
}

async function grants(db: SqlDatabase): Promise<unknown[]> {
  return (await db.query(`SELECT to_jsonb(g) AS row FROM audit.grants g ORDER BY grant_id`)).rows;
}

/** `custos projections rebuild` against a real PostgreSQL: a read model damaged by hand comes back as the log says. */
describe('custos projections rebuild', () => {
  let db: SqlDatabase;
  let url: string;
  let drop: () => Promise<void>;

  beforeAll(async () => {
    const database = await createTestDatabase('custos_audit_rebuild_cli');
    ({ url, drop } = database);
    db = createPgDatabase(url);
    const log = new AuditLog(db);
    await log.migrate();
    await log.recordBatch([hired('ada', '2026-03-01T09:00:00Z'), granted('ada', '2026-03-01T10:00:00Z', { grantId: 'g1', entitlement: 'vpn' })]);
    await log.recordBatch([terminated('ada', '2026-03-02T09:00:00Z', '2026-03-02T09:00:00Z'), accessTerminated('ada', '2026-03-02T09:01:00Z'), revoked('ada', '2026-03-02T09:01:00Z', 'g1', 'vpn')]);
  });

  afterAll(async () => {
    await db.close();
    await drop();
  });

  it('replays the audit history from the log, with progress and throughput', async () => {
    const live = await grants(db);
    await db.query(`DELETE FROM audit.grants`);
    await db.query(`INSERT INTO audit.grants (identity_id, grant_id, entitlement, source, granted_at, granted_recorded, granted_seq, granted_event) VALUES ('x', 'forged', 'root', 'admin', now(), now(), 1, 'e')`);
    const run = io(url);
    expect(await runProjectionsRebuild(['rebuild', 'audit-history'], run.io)).toBe(0);
    expect(run.out()).toMatch(/^audit-history: rebuilt from 5 events in [\d.]+ s \(\d+ events\/s\)\n$/);
    expect(run.err()).toContain('audit-history');
    expect(await grants(db)).toEqual(live);
    expect(await runProjectionsRebuild(['rebuild', 'all'], io(url).io)).toBe(0);
    expect(await grants(db)).toEqual(live);
  });

  it('refuses an unknown projection or command with the usage, touching nothing', async () => {
    for (const args of [['rebuild', 'nope'], ['rebuild', '__proto__'], ['rebuild'], ['drop', 'audit-history'], ['rebuild', 'audit-history', 'extra']]) {
      const run = io(url);
      expect([args, await runProjectionsRebuild(args, run.io)]).toEqual([args, 2]);
      expect(run.err()).toContain('usage: custos projections rebuild');
    }
  });
});
