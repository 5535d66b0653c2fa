import { Presets, SingleBar } from 'cli-progress';
import { AuditLog } from '@custos/audit/application';
import { createPgDatabase, createPgliteDatabase, type SqlDatabase } from '@custos/platform/event-store';
import { readConfig } from '@custos/platform/runtime';

/** A read model the command rebuilds: how many events it replays, and the replay. */
interface Rebuildable {
  describe: string;
  total(db: SqlDatabase): Promise<number>;
  rebuild(db: SqlDatabase, progress: (done: number) => void): Promise<number>;
}

const PROJECTIONS: Record<string, Rebuildable> = {
  'audit-history': {
    describe: "the audit context's history of access (grants, identity timeline, leavers, catalog, SoD), replayed from the audit log",
    async total(db) {
      const { rows } = await db.query<{ n: string }>(`SELECT coalesce(max(seq), 0) AS n FROM audit.log`);
      return Number(rows[0].n);
    },
    async rebuild(db, progress) {
      const log = new AuditLog(db);
      await log.migrate();
      return log.rebuildHistory(progress);
    },
  },
};

export const PROJECTIONS_REBUILD_USAGE = `usage: custos projections rebuild <name|all>

Drops a read model and replays the events into it, with a progress bar (events/s, ETA), in one
transaction: its readers and the appends to the log wait for it to commit. Reads DATABASE_URL
(PostgreSQL), else the embedded store under CUSTOS_DATA_DIR (stop the server first: the embedded
store is one process's). Exit 0 when rebuilt, 1 when it failed, 2 on bad usage.

Projections:
${Object.entries(PROJECTIONS).map(([name, p]) => `  ${name}: ${p.describe}`).join('\n')}
`;

export interface RebuildIo {
  stdout: { write(text: string): unknown };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
}

const processIo: RebuildIo = { stdout: process.stdout, stderr: process.stderr, env: process.env };

/** `custos projections rebuild <name|all>`: 0 rebuilt, 1 failed, 2 bad usage. */
export async function runProjectionsRebuild(argv: string[], io: RebuildIo = processIo): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    io.stdout.write(PROJECTIONS_REBUILD_USAGE);
    return 0;
  }
  const [verb, name, ...rest] = argv;
  const names = name === 'all' ? Object.keys(PROJECTIONS) : [name ?? ''];
  const unknown = names.find((n) => !Object.prototype.hasOwnProperty.call(PROJECTIONS, n));
  if (verb !== 'rebuild' || rest.length > 0 || unknown !== undefined) {
    const why = verb !== 'rebuild' ? `unknown command ${JSON.stringify(verb ?? '')}` : unknown !== undefined ? `no projection ${JSON.stringify(unknown)}` : `unexpected ${rest.join(' ')}`;
    io.stderr.write(`custos projections: ${why}\n\n${PROJECTIONS_REBUILD_USAGE}`);
    return 2;
  }
  const config = readConfig(io.env);
  const db = config.databaseUrl ? createPgDatabase(config.databaseUrl, { max: 2, applicationName: 'custos-projections-rebuild' }) : await createPgliteDatabase(config.dataDir);
  try {
    for (const projection of names) {
      const rebuildable = PROJECTIONS[projection];
      const total = await rebuildable.total(db);
      const bar = new SingleBar(
        { stream: io.stderr, format: `${projection} [{bar}] {value}/{total} events | {speed} events/s | {eta_formatted} left`, hideCursor: true, noTTYOutput: !io.stderr.isTTY, notTTYSchedule: 2000 },
        Presets.shades_classic,
      );
      const started = Date.now();
      bar.start(total, 0, { speed: 0 });
      let done: number;
      try {
        done = await rebuildable.rebuild(db, (n) => bar.update(n, { speed: Math.round(n / Math.max(0.001, (Date.now() - started) / 1000)) }));
      } finally {
        bar.stop();
      }
      const seconds = (Date.now() - started) / 1000;
      io.stdout.write(`${projection}: rebuilt from ${done} events in ${seconds.toFixed(1)} s (${Math.round(done / Math.max(seconds, 0.001))} events/s)\n`);
    }
    return 0;
  } catch (error) {
    io.stderr.write(`custos projections rebuild: ${(error as Error).message}\n`);
    return 1;
  } finally {
    await db.close();
  }
}
