import { DurableScheduler, Inbox, type ContextRuntime } from '@custos/platform/runtime';
import type { TargetKind } from '@custos/privileged/contracts';
import type { Connector } from './connectors/connector';
import { JitAccounts } from './jit-accounts';
import { JobKick, NO_KICK } from './job-kick';
import { TargetWork } from './target-work';
import { PrivilegedWorkers } from './privileged-workers';
import { EntitlementLinks } from './read-models/entitlement-links/entitlement-links';
import { PrivilegedView } from './read-models/privileged-view/privileged-view';
import { TargetService } from './target-service';
import type { KeyEncryptionKey } from './vault/key-encryption-key';
import { Vault } from './vault/vault';
import { VaultService } from './vault-service';

export interface PrivilegedOptions {
  kek: KeyEncryptionKey;
  /** The schema of the context's tables; its name by default. */
  schema?: string;
  connectors: Readonly<Record<TargetKind, Connector>>;
  /** How often the scheduler looks for due jobs: a grant's account is made, and an ended one dropped, within about this long. */
  schedulerPollMs?: number;
  reconcileEveryMs?: number;
  onRotationFailed?: (key: string) => void;
  rpcTimeoutMs?: number;
  /** Run a job scheduled for now as soon as its transaction commits (default), or leave it to the poll (specs that step the scheduler). */
  kickJobs?: boolean;
}

/** The privileged context's parts, wired for one runtime: what the api module provides and the specs use. */
export interface PrivilegedContext {
  inbox: Inbox;
  vault: Vault;
  links: EntitlementLinks;
  view: PrivilegedView;
  scheduler: DurableScheduler;
  targets: TargetService;
  vaultAccounts: VaultService;
  jit: JitAccounts;
  workers: PrivilegedWorkers;
  /** Target calls under way outside transactions (idle() for shutdown and specs). */
  work: TargetWork;
  /** Creates every table (the store's own are the runtime's). */
  migrate(): Promise<void>;
}

/** createPrivilegedContext wires the privileged context's services on a runtime. */
export function createPrivilegedContext(runtime: ContextRuntime, options: PrivilegedOptions): PrivilegedContext {
  const schema = options.schema ?? runtime.store.context;
  const inbox = new Inbox(runtime.db, schema);
  const vault = new Vault(runtime.db, schema, options.kek);
  const links = new EntitlementLinks(runtime.db, schema);
  const view = new PrivilegedView(runtime.db, runtime.store, schema);
  const scheduler = new DurableScheduler(runtime.db, schema, runtime.clock, {
    pollIntervalMs: options.schedulerPollMs ?? 100,
    onError: (err, job) => runtime.logger.error({ err, job }, 'privileged scheduled job failed; retrying with backoff'),
  });
  const jobs = options.kickJobs === false ? NO_KICK : new JobKick(scheduler, (err) => runtime.logger.error({ err }, 'privileged jobs run on commit failed; the poll retries them'));
  const work = new TargetWork(scheduler, runtime.db, runtime.clock, (err, job) => runtime.logger.warn({ err, job }, 'a target job failed; it comes back with backoff'));
  const targets = new TargetService(runtime, vault, options.connectors, view);
  const vaultAccounts = new VaultService(runtime, vault, targets, scheduler, view, work, links, { rpcTimeoutMs: options.rpcTimeoutMs, onRotationFailed: options.onRotationFailed, jobs });
  const jit = new JitAccounts(runtime, inbox, links, vault, targets, vaultAccounts, scheduler, view, work, jobs);
  const workers = new PrivilegedWorkers(runtime, view, vaultAccounts, jit, scheduler, (err) => runtime.logger.error({ err }, 'privileged read model failed; retrying'), options.reconcileEveryMs, () => vault.rewrapAll(), jobs, work);
  return {
    inbox,
    vault,
    links,
    view,
    scheduler,
    targets,
    vaultAccounts,
    jit,
    workers,
    work,
    async migrate() {
      for (const part of [inbox, vault, links, view, scheduler]) await part.migrate();
    },
  };
}
