import type { BackgroundWorker, ContextRuntime, DurableScheduler, JobHandler } from '@custos/platform/runtime';
import { CREATE_JIT_ACCOUNT, DROP_JIT_ACCOUNT, EXTEND_JIT_ACCOUNT, RECONCILE_JIT_ACCOUNTS, type JitAccounts } from './jit-accounts';
import { NO_KICK, type JobKick } from './job-kick';
import type { TargetWork } from './target-work';
import type { PrivilegedView } from './read-models/privileged-view/privileged-view';
import { APPLY_ROTATION, EXPIRE_LEASE, ROTATION_DUE, type VaultService } from './vault-service';

/**
 * The privileged context's background work: its read model, and the scheduler's jobs (rotations,
 * lease ends, making and dropping just-in-time accounts, the periodic reconciliation, which
 * schedules itself again every `reconcileEveryMs`). Other contexts' events arrive through the api's consumer.
 */
export class PrivilegedWorkers implements BackgroundWorker {
  constructor(
    private readonly runtime: ContextRuntime,
    private readonly view: PrivilegedView,
    private readonly vault: VaultService,
    private readonly jit: JitAccounts,
    private readonly scheduler: DurableScheduler,
    private readonly onError: (error: unknown) => void,
    private readonly reconcileEveryMs = 5 * 60_000,
    /** Moves the vault's data keys to the current key-encryption key (after a KEK rotation); answers how many moved. */
    private readonly rewrap: () => Promise<number> = async () => 0,
    private readonly jobs: Pick<JobKick, 'stop'> = NO_KICK,
    private readonly work?: Pick<TargetWork, 'idle' | 'afterCommit'>,
  ) {}

  async start(): Promise<void> {
    // A new key-encryption key on the key file's first line takes over at start: data keys are re-wrapped, ciphertexts untouched.
    const moved = await this.rewrap();
    if (moved > 0) this.runtime.logger.info({ moved }, 'vault data keys re-wrapped to the current key-encryption key; the old key can leave the key file');
    this.view.start(this.onError);
    await this.view.caughtUp();
    // One reconciliation job for all replicas (one key); a restart keeps the one scheduled.
    const pending = await this.scheduler.pending('jit-reconcile');
    if (pending.length === 0) await this.scheduler.schedule(this.runtime.db, { key: 'jit-reconcile', kind: RECONCILE_JIT_ACCOUNTS, dueAt: this.nextReconciliation(), payload: {} });
    this.scheduler.start(this.handlers());
  }

  /** The scheduler's handlers, by job kind. */
  handlers(): Record<string, JobHandler> {
    return {
      [APPLY_ROTATION]: (payload, tx) => this.vault.applyRotation(tx, payload as { key: string; rotationId: string }),
      [EXPIRE_LEASE]: (payload, tx) => this.vault.expireLease(tx, payload as { key: string; leaseId: string }),
      [ROTATION_DUE]: (payload, tx) => this.vault.rotationDue(tx, payload as { key: string }),
      [CREATE_JIT_ACCOUNT]: (payload, tx) => this.jit.createAccount(tx, payload as { grantId: string }),
      [DROP_JIT_ACCOUNT]: (payload, tx) => this.jit.dropAccount(tx, payload as { grantId: string }),
      [EXTEND_JIT_ACCOUNT]: (payload, tx) => this.jit.extendAccount(tx, payload as { grantId: string }),
      [RECONCILE_JIT_ACCOUNTS]: async (_payload, tx) => {
        // The next run is booked with this one; the targets are visited once this commits, outside it.
        await this.scheduler.schedule(tx, { key: 'jit-reconcile', kind: RECONCILE_JIT_ACCOUNTS, dueAt: this.nextReconciliation(), payload: {} });
        if (this.work) this.work.afterCommit(tx, 'jit-reconcile', () => this.jit.reconcile());
        else await this.jit.reconcile();
      },
    };
  }

  private nextReconciliation(): Date {
    return new Date(this.runtime.clock().getTime() + this.reconcileEveryMs);
  }

  async stop(): Promise<void> {
    await this.jobs.stop();
    await this.scheduler.stop();
    await this.work?.idle();
    await this.view.stop();
  }
}
