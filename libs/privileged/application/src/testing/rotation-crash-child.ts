/*
 * A process of the privileged context that dies (SIGKILL, no cleanup) the moment the target has
 * taken the pending password of a rotation, before the vault commits it: the crash the
 * rotation's design must survive. Started by privileged.spec.ts with @swc-node/register; env:
 * CHILD_DATABASE_URL, CHILD_SCHEMA, CHILD_KEK (base64 of the key `k1`).
 */
import { createPgDatabase, SqlEventStore } from '@custos/platform/event-store';
import { InProcessBus } from '@custos/platform/messaging';
import { createLogger, readConfig } from '@custos/platform/runtime';
import type { Connector } from '../connectors/connector';
import { PostgresConnector } from '../connectors/postgresql-connector';
import { createPrivilegedContext } from '../privileged-context';
import { FileKeyEncryptionKey } from '../vault/file-kek';

async function main(): Promise<void> {
  const db = createPgDatabase(process.env.CHILD_DATABASE_URL!, { max: 2, applicationName: 'rotation-crash-child' });
  const schema = process.env.CHILD_SCHEMA!;
  const store = await SqlEventStore.open(db, { context: 'privileged', schema });
  const runtime = { context: 'privileged', db, store, bus: new InProcessBus(), clock: () => new Date(process.env.CHILD_NOW!), logger: createLogger(readConfig({}), 'child'), publicUrl: '' };
  const real = new PostgresConnector();
  const dying: Connector = Object.assign(Object.create(real) as Connector, {
    rotatePassword: async (access: Parameters<Connector['rotatePassword']>[0], username: string, password: string) => {
      await real.rotatePassword(access, username, password);
      process.stdout.write('target-changed\n');
      process.kill(process.pid, 'SIGKILL');
      await new Promise(() => undefined);
    },
  });
  const context = createPrivilegedContext(runtime, { kek: new FileKeyEncryptionKey([{ id: 'k1', key: Buffer.from(process.env.CHILD_KEK!, 'base64') }]), schema, connectors: { postgresql: dying }, kickJobs: false });
  context.scheduler.use(context.workers.handlers());
  await context.scheduler.runDue();
  // The target is called once the job's claim has committed, outside it.
  await context.work.idle();
  process.stdout.write('no-rotation-ran\n');
  process.exit(2);
}

void main();
