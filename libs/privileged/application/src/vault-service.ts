import { randomUUID } from 'node:crypto';
import { CHECK_RPC, type CheckRequest, type CheckResult } from '@custos/entitlement/contracts';
import type { SqlExecutor } from '@custos/platform/event-store';
import { handleCommand, loadAggregate, type CommandMeta, type ContextRuntime, type DurableScheduler } from '@custos/platform/runtime';
import { isoDurationEnd } from '@custos/platform/domain';
import { vaultAccountSecretId, vaultAccountStreamId, type VaultAccountEvent } from '@custos/privileged/contracts';
import { vaultAccountDecider, VaultAccountNotFound, type VaultAccountCommand, type VaultAccountState, type VaultedAccount } from '@custos/privileged/domain';
import { ConnectorError } from './connectors/connector';
import type { JobKick } from './job-kick';
import type { EntitlementLinks } from './read-models/entitlement-links/entitlement-links';
import type { TargetWork } from './target-work';
import { newPassword } from './passwords';
import type { PrivilegedView } from './read-models/privileged-view/privileged-view';
import type { TargetService } from './target-service';
import type { Vault } from './vault/vault';

/** The scheduler's job kinds of the vault. */
export const APPLY_ROTATION = 'privileged-apply-rotation';
export const EXPIRE_LEASE = 'privileged-expire-lease';
export const ROTATION_DUE = 'privileged-rotation-due';

/** A vault account as GET /vault/accounts/{key} answers it: never a password. */
export interface VaultAccountAnswer {
  key: string;
  target: string;
  username: string;
  entitlement: string;
  rotateEvery?: string;
  /** available, checked-out, or rotating (a new password is being set on the target). */
  status: 'available' | 'checked-out' | 'rotating';
  /** The password version the target has (0 before the first rotation completed). */
  version: number;
  lease?: { leaseId: string; identityId: string; checkedOutAt: string; expiresAt: string };
  pendingRotation?: { rotationId: string; reason: string; startedAt: string; attempts: number };
  lastRotatedAt?: string;
  lastFailure?: { error: string; failedAt: string; retryAt: string };
}

export interface CheckOutAnswer {
  key: string;
  username: string;
  password: string;
  leaseId: string;
  expiresAt: string;
}

/**
 * VaultService runs the vault accounts' commands. Every new password is generated here and
 * sealed into the vault in the transaction that records PasswordRotationStarted, with the
 * scheduler's job that sets it on the target (APPLY_ROTATION); the job commits it
 * (PasswordRotated) or records the failure and tries again later with backoff. A crash anywhere
 * leaves the job in place, so the pending password is applied again and committed after a
 * restart: the vault and the target never disagree for longer than that.
 */
export class VaultService {
  constructor(
    private readonly runtime: ContextRuntime,
    private readonly vault: Vault,
    private readonly targets: TargetService,
    private readonly scheduler: DurableScheduler,
    private readonly view: PrivilegedView,
    private readonly work: TargetWork,
    /** Which request a grant was made on, for the check-out's event. */
    private readonly grants: Pick<EntitlementLinks, 'requestOf'>,
    private readonly options: { rpcTimeoutMs?: number; onRotationFailed?: (key: string) => void; jobs?: Pick<JobKick, 'kick'> } = {},
  ) {}

  async register(input: { key: string; target: string; username: string; entitlement: string; rotateEvery?: string }, meta: CommandMeta): Promise<VaultAccountAnswer> {
    await this.runtime.db.transaction(async (tx) => {
      const targetKnown = await this.targets.exists(input.target, tx);
      await this.run(input.key, { type: 'RegisterVaultAccount', data: { ...input, targetKnown, rotationId: randomUUID(), now: this.now(), actor: meta.actor } }, meta, tx);
    });
    this.options.jobs?.kick();
    await this.view.caughtUp();
    return this.get(input.key);
  }

  async get(key: string): Promise<VaultAccountAnswer> {
    return answerOf(key, await this.state(key));
  }

  /**
   * Checks an account out to `identityId` if the entitlement context says they hold an active
   * grant of its entitlement now (rpc.entitlement.check): the lease ends at the latest with the
   * grant, and the password is shown in this answer only.
   */
  async checkOut(key: string, identityId: string, input: { duration?: string; reason?: string }, meta: CommandMeta): Promise<CheckOutAnswer> {
    const account = await this.vaulted(key);
    const request: CheckRequest = { identityId, entitlement: account.definition.entitlement };
    const check = await this.runtime.bus.request<CheckResult>(CHECK_RPC, request, { timeoutMs: this.options.rpcTimeoutMs ?? 10_000 });
    const held = check.allowed && check.grantIds.length > 0 ? { grantId: check.grantIds[0], ...(check.expiresAt !== undefined && { expiresAt: check.expiresAt }) } : undefined;
    const leaseId = randomUUID();
    return this.runtime.db.transaction(async (tx) => {
      const requestId = held ? await this.grants.requestOf(held.grantId, tx) : undefined;
      const grant = held && { ...held, ...(requestId !== undefined && { requestId }) };
      const { events } = await this.run(
        key,
        {
          type: 'CheckOutVaultAccount',
          data: { key, identityId, leaseId, ...(grant && { grant }), ...(input.duration !== undefined && { duration: input.duration }), ...(input.reason !== undefined && { reason: input.reason }), now: this.now() },
        },
        meta,
        tx,
      );
      const out = events.find((e) => e.type === 'VaultAccountCheckedOut');
      if (out?.type !== 'VaultAccountCheckedOut') throw new Error('check-out recorded nothing');
      const password = await this.vault.reveal(vaultAccountSecretId(key), out.data.secretVersion, tx);
      return { key, username: account.definition.username, password, leaseId, expiresAt: out.data.expiresAt };
    });
  }

  /** The holder gives the account back; its password is rotated. */
  async checkIn(key: string, identityId: string, meta: CommandMeta): Promise<VaultAccountAnswer> {
    await this.runtime.db.transaction((tx) => this.run(key, { type: 'CheckInVaultAccount', data: { key, identityId, rotationId: randomUUID(), now: this.now() } }, meta, tx));
    this.options.jobs?.kick();
    return this.get(key);
  }

  /** An administrator rotates the password now. */
  async rotate(key: string, meta: CommandMeta): Promise<VaultAccountAnswer> {
    await this.runtime.db.transaction((tx) => this.run(key, { type: 'RotatePassword', data: { key, rotationId: randomUUID(), reason: 'on-demand', now: this.now() } }, meta, tx));
    this.options.jobs?.kick();
    return this.get(key);
  }

  /** A grant ended: the leases held on its strength end, in the consumer's transaction. */
  async grantEnded(tx: SqlExecutor, grant: { grantId: string; entitlement: string }, meta: CommandMeta): Promise<void> {
    for (const key of await this.view.vaultAccountsOf(grant.entitlement, tx)) {
      await this.run(key, { type: 'EndGrantLease', data: { key, grantId: grant.grantId, rotationId: randomUUID(), now: this.now() } }, meta, tx);
    }
  }

  /** APPLY_ROTATION: a pending rotation is claimed; the password is set on the target once the claim commits (setOnTarget). */
  async applyRotation(tx: SqlExecutor, payload: { key: string; rotationId: string }): Promise<void> {
    const state = await this.state(payload.key, tx);
    if (state.kind !== 'VaultedAccount' || state.pending?.rotationId !== payload.rotationId) return;
    await this.work.claim(tx, { key: `rotation:${payload.key}`, kind: APPLY_ROTATION, payload: { key: payload.key, rotationId: payload.rotationId } }, () => this.setOnTarget(payload));
  }

  /**
   * Sets the pending password on the target, outside any transaction, then commits it
   * (PasswordRotated); a target that refuses or cannot be reached is recorded
   * (PasswordRotationFailed, counted) and the job comes back at its retryAt (1 s doubling to 5 min).
   */
  private async setOnTarget(payload: { key: string; rotationId: string }): Promise<void> {
    const meta = { actor: 'system:vault-rotation' };
    const state = await this.state(payload.key);
    if (state.kind !== 'VaultedAccount' || state.pending?.rotationId !== payload.rotationId) return;
    const { pending, definition } = state;
    const password = await this.vault.reveal(vaultAccountSecretId(payload.key), pending.version);
    try {
      const { access, connector } = await this.targets.access(definition.target);
      await connector.rotatePassword(access, definition.username, password);
    } catch (error) {
      if (!(error instanceof ConnectorError)) throw error;
      const retryAt = new Date(this.runtime.clock().getTime() + Math.min(300_000, 1000 * 2 ** Math.min(pending.attempts, 8)));
      await this.runtime.db.transaction(async (tx) => {
        await this.run(payload.key, { type: 'FailRotation', data: { key: payload.key, rotationId: payload.rotationId, error: error.reason, retryAt: retryAt.toISOString(), now: this.now() } }, meta, tx);
        await this.scheduler.schedule(tx, { key: `rotation:${payload.key}`, kind: APPLY_ROTATION, dueAt: retryAt, payload });
      });
      this.options.onRotationFailed?.(payload.key);
      this.runtime.logger.warn({ account: payload.key, attempt: pending.attempts + 1, reason: error.reason }, 'vault rotation failed; retrying');
      return;
    }
    await this.runtime.db.transaction(async (tx) => {
      const { events } = await this.run(payload.key, { type: 'CompleteRotation', data: { key: payload.key, rotationId: payload.rotationId, now: this.now() } }, meta, tx);
      // The claim goes with the commit; a repeat (another replica after a lapsed claim) committed nothing and leaves the key to whoever holds it.
      if (events.length > 0) await this.scheduler.cancel(tx, `rotation:${payload.key}`);
    });
  }

  /** EXPIRE_LEASE: a lease still held at its end ends, and the password it showed is rotated. */
  async expireLease(tx: SqlExecutor, payload: { key: string; leaseId: string }): Promise<void> {
    await this.run(payload.key, { type: 'ExpireLease', data: { key: payload.key, leaseId: payload.leaseId, rotationId: randomUUID(), now: this.now() } }, { actor: 'system:vault-lease' }, tx);
  }

  /** ROTATION_DUE: the account's rotateEvery has passed since its last rotation. */
  async rotationDue(tx: SqlExecutor, payload: { key: string }): Promise<void> {
    await this.run(payload.key, { type: 'RotatePassword', data: { key: payload.key, rotationId: randomUUID(), reason: 'scheduled', now: this.now() } }, { actor: 'system:vault-rotation' }, tx);
  }

  /** Runs a command and does what its events ask of the vault and the scheduler, in the same transaction. */
  private async run(key: string, command: VaultAccountCommand, meta: CommandMeta, tx: SqlExecutor): Promise<{ events: VaultAccountEvent[]; state: VaultAccountState }> {
    // A concurrent writer of the stream (a second check-out at the same moment) is a version conflict: one of them wins.
    const { events, state } = await handleCommand(this.runtime.store, vaultAccountStreamId(key), vaultAccountDecider, command, meta, tx);
    for (const event of events) {
      switch (event.type) {
        case 'PasswordRotationStarted':
          await this.vault.put(tx, vaultAccountSecretId(key), event.data.version, newPassword());
          await this.scheduler.schedule(tx, { key: `rotation:${key}`, kind: APPLY_ROTATION, dueAt: new Date(event.data.startedAt), payload: { key, rotationId: event.data.rotationId } });
          break;
        case 'PasswordRotated': {
          await this.vault.delete(tx, vaultAccountSecretId(key), event.data.version);
          const every = state.kind === 'VaultedAccount' ? state.definition.rotateEvery : undefined;
          if (every !== undefined) {
            const due = addIso(event.data.rotatedAt, every);
            await this.scheduler.schedule(tx, { key: `rotation-due:${key}`, kind: ROTATION_DUE, dueAt: due, payload: { key } });
          }
          break;
        }
        case 'VaultAccountCheckedOut':
          await this.scheduler.schedule(tx, { key: `lease:${key}`, kind: EXPIRE_LEASE, dueAt: new Date(event.data.expiresAt), payload: { key, leaseId: event.data.leaseId } });
          break;
        case 'VaultAccountCheckedIn':
          if (event.data.reason !== 'lease-expired') await this.scheduler.cancel(tx, `lease:${key}`);
          break;
        default:
          break;
      }
    }
    return { events, state };
  }

  private async state(key: string, tx?: SqlExecutor): Promise<VaultAccountState> {
    return (await loadAggregate(this.runtime.store, vaultAccountStreamId(key), vaultAccountDecider, tx)).state;
  }

  private async vaulted(key: string): Promise<VaultedAccount> {
    const state = await this.state(key);
    if (state.kind === 'NoVaultAccount') throw new VaultAccountNotFound(key);
    return state;
  }

  private now(): string {
    return this.runtime.clock().toISOString();
  }
}

function answerOf(key: string, state: VaultAccountState): VaultAccountAnswer {
  if (state.kind === 'NoVaultAccount') throw new VaultAccountNotFound(key);
  const { definition } = state;
  return {
    key,
    target: definition.target,
    username: definition.username,
    entitlement: definition.entitlement,
    ...(definition.rotateEvery !== undefined && { rotateEvery: definition.rotateEvery }),
    status: state.pending ? 'rotating' : state.lease ? 'checked-out' : 'available',
    version: state.version,
    ...(state.lease && { lease: { leaseId: state.lease.leaseId, identityId: state.lease.identityId, checkedOutAt: state.lease.checkedOutAt, expiresAt: state.lease.expiresAt } }),
    ...(state.pending && { pendingRotation: { rotationId: state.pending.rotationId, reason: state.pending.reason, startedAt: state.pending.startedAt, attempts: state.pending.attempts } }),
    ...(state.lastRotatedAt !== undefined && { lastRotatedAt: state.lastRotatedAt }),
    ...(state.lastFailure && { lastFailure: state.lastFailure }),
  };
}

/** The instant `duration` after `start` (a duration the decider accepted at registration). */
function addIso(start: string, duration: string): Date {
  const end = isoDurationEnd(Date.parse(start), duration);
  return new Date('end' in end ? end.end : Date.parse(start) + 30 * 86_400_000);
}
