import { createHash } from 'node:crypto';
import type { AccessExtended, AccessGranted, AccessRevoked } from '@custos/entitlement/contracts';
import type { CustosEvent, SqlExecutor } from '@custos/platform/event-store';
import { handleCommand, loadAggregate, type CommandMeta, type ContextRuntime, type DurableScheduler, type Inbox } from '@custos/platform/runtime';
import { jitAccountSecretId, jitAccountStreamId, targetStreamId, type JitAccountEvent } from '@custos/privileged/contracts';
import { jitAccountDecider, targetDecider, type JitAccountCommand, type JitAccountState } from '@custos/privileged/domain';
import { ConnectorError } from './connectors/connector';
import { NO_KICK, type JobKick } from './job-kick';
import type { TargetWork } from './target-work';
import { newPassword } from './passwords';
import type { EntitlementLinks } from './read-models/entitlement-links/entitlement-links';
import type { PrivilegedView } from './read-models/privileged-view/privileged-view';
import type { TargetService } from './target-service';
import type { Vault } from './vault/vault';
import type { VaultService } from './vault-service';

/** The durable consumer of the entitlement context's events. */
export const ENTITLEMENT_EVENTS_CONSUMER = 'privileged-entitlement-events';
/** The entitlement events it reads: the catalog's target links and the grants' starts and ends. */
export const ENTITLEMENT_EVENTS = ['EntitlementDefined', 'EntitlementChanged', 'EntitlementRetired', 'AccessGranted', 'AccessExtended', 'AccessRevoked'] as const;

/** The scheduler's job kinds of the just-in-time accounts. */
export const CREATE_JIT_ACCOUNT = 'privileged-create-jit-account';
export const DROP_JIT_ACCOUNT = 'privileged-drop-jit-account';
export const EXTEND_JIT_ACCOUNT = 'privileged-extend-jit-account';
export const RECONCILE_JIT_ACCOUNTS = 'privileged-reconcile-jit-accounts';

/** The prefix of every just-in-time login role. */
export const JIT_PREFIX = 'custos_';

/**
 * jitUsername: a grant's login role on a target, `custos_` and 12 hex digits of a hash of both:
 * the same for every delivery of the grant's start (so a retried creation finds its role), and
 * telling nothing of the grant or the identity.
 */
export function jitUsername(target: string, grantId: string): string {
  return `${JIT_PREFIX}${createHash('sha256').update(`${target}\u0000${grantId}`).digest('hex').slice(0, 12)}`;
}

/** The credential of a just-in-time account as GET /access/{identityId}/credentials/{grantId} answers it, once. */
export interface JitCredential {
  grantId: string;
  username: string;
  password: string;
  host: string;
  port: number;
  database: string;
  expiresAt?: string;
}

/**
 * JitAccounts is the process manager between grants and database accounts:
 * - AccessGranted of an entitlement linked to a registered target: a JitAccountRequested with a
 *   sealed random password and a CREATE_JIT_ACCOUNT job, in the transaction that claims the
 *   event in the inbox; the job makes the role (VALID UNTIL the grant's end, member of the
 *   targetRole) and records it;
 * - AccessRevoked (expiry, revoke, leaver, review): JitAccountEnding and a DROP_JIT_ACCOUNT job,
 *   which disables the role, terminates its sessions and drops it; leases of vault accounts
 *   held on the grant end too (VaultService.grantEnded);
 * - the catalog's events keep the entitlement links.
 * Jobs run from the durable scheduler, so a target that is down is retried with backoff and a
 * crash loses nothing; every step is idempotent on the target and in the streams.
 */
export class JitAccounts {
  constructor(
    private readonly runtime: ContextRuntime,
    private readonly inbox: Inbox,
    private readonly links: EntitlementLinks,
    private readonly vault: Vault,
    private readonly targets: TargetService,
    private readonly vaultAccounts: VaultService,
    private readonly scheduler: DurableScheduler,
    private readonly view: PrivilegedView,
    private readonly work: TargetWork,
    private readonly jobs: Pick<JobKick, 'kick'> = NO_KICK,
  ) {}

  /** An entitlement event, claimed in the inbox with its effect; the jobs it scheduled run as soon as it commits. */
  async onEntitlementEvent(stored: CustosEvent): Promise<void> {
    const meta: CommandMeta = { actor: 'system:privileged-jit', correlationId: stored.correlationid, causationId: stored.id };
    await this.handle(stored, meta);
    this.jobs.kick();
  }

  private async handle(stored: CustosEvent, meta: CommandMeta): Promise<void> {
    await this.runtime.db.transaction(async (tx) => {
      if (!(await this.inbox.claim(tx, ENTITLEMENT_EVENTS_CONSUMER, stored.id))) return;
      await this.links.apply(tx, stored);
      if (stored.name === 'AccessGranted') await this.granted(tx, stored.data as AccessGranted['data'], meta);
      else if (stored.name === 'AccessExtended') await this.extended(tx, stored.data as AccessExtended['data'], meta);
      else if (stored.name === 'AccessRevoked') {
        const revoked = stored.data as AccessRevoked['data'];
        await this.ended(tx, revoked.grantId, revoked.reason, meta);
        await this.vaultAccounts.grantEnded(tx, revoked, meta);
      }
    });
  }

  /** A grant started: an account for it if its entitlement names a registered target. */
  async granted(tx: SqlExecutor, grant: AccessGranted['data'], meta: CommandMeta): Promise<void> {
    const link = await this.links.get(grant.entitlement, tx);
    if (!link?.target || !link.targetRole) return;
    if (!(await this.targets.exists(link.target, tx))) {
      this.runtime.logger.warn({ grantId: grant.grantId, entitlement: grant.entitlement, target: link.target }, 'a grant names a target that is not registered: no account made');
      return;
    }
    const command: JitAccountCommand = {
      type: 'RequestJitAccount',
      data: {
        grantId: grant.grantId,
        identityId: grant.identityId,
        entitlement: grant.entitlement,
        target: link.target,
        targetRole: link.targetRole,
        username: jitUsername(link.target, grant.grantId),
        ...(grant.requestId !== undefined && { requestId: grant.requestId }),
        ...(grant.expiresAt !== undefined && { expiresAt: grant.expiresAt }),
        now: this.now(),
      },
    };
    const { events } = await this.run(grant.grantId, command, meta, tx);
    if (events.length === 0) return;
    await this.vault.put(tx, jitAccountSecretId(grant.grantId), 1, newPassword());
    await this.scheduler.schedule(tx, { key: `jit-create:${grant.grantId}`, kind: CREATE_JIT_ACCOUNT, dueAt: this.runtime.clock(), payload: { grantId: grant.grantId } });
  }

  /** A grant was extended: its account's validity follows (a role not made yet is made with the new end). */
  async extended(tx: SqlExecutor, extension: AccessExtended['data'], meta: CommandMeta): Promise<void> {
    const { events } = await this.run(extension.grantId, { type: 'ExtendJitAccount', data: { grantId: extension.grantId, expiresAt: extension.expiresAt, now: this.now() } }, meta, tx);
    if (events.length === 0) return;
    await this.scheduler.schedule(tx, { key: `jit-extend:${extension.grantId}`, kind: EXTEND_JIT_ACCOUNT, dueAt: this.runtime.clock(), payload: { grantId: extension.grantId } });
  }

  /** EXTEND_JIT_ACCOUNT: sets the role's VALID UNTIL to its grant's end now (outside the transaction, as every target call); a role not made yet gets it when made. */
  async extendAccount(tx: SqlExecutor, payload: { grantId: string; attempt?: number }): Promise<void> {
    if ((await this.state(payload.grantId, tx)).kind !== 'ActiveJitAccount') return;
    await this.work.claim(tx, { key: `jit-extend:${payload.grantId}`, kind: EXTEND_JIT_ACCOUNT, payload }, async () => {
      const state = await this.state(payload.grantId);
      if (state.kind !== 'ActiveJitAccount' || state.account.expiresAt === undefined) return;
      const { access, connector } = await this.targets.access(state.account.target);
      await connector.extendAccount(access, state.account.username, state.account.expiresAt);
      await this.runtime.db.transaction((outcome) => this.scheduler.cancel(outcome, `jit-extend:${payload.grantId}`));
    });
  }

  /** A grant ended: its account (if any) ends, made or not. */
  async ended(tx: SqlExecutor, grantId: string, reason: string, meta: CommandMeta): Promise<void> {
    const { events } = await this.run(grantId, { type: 'EndJitAccount', data: { grantId, reason, now: this.now() } }, meta, tx);
    if (events.length === 0) return;
    await this.scheduler.schedule(tx, { key: `jit-drop:${grantId}`, kind: DROP_JIT_ACCOUNT, dueAt: this.runtime.clock(), payload: { grantId } });
  }

  /** CREATE_JIT_ACCOUNT: a requested account is claimed; once the claim commits, the role is made on the target and recorded. */
  async createAccount(tx: SqlExecutor, payload: { grantId: string; attempt?: number }): Promise<void> {
    if ((await this.state(payload.grantId, tx)).kind !== 'RequestedJitAccount') return;
    await this.work.claim(tx, { key: `jit-create:${payload.grantId}`, kind: CREATE_JIT_ACCOUNT, payload }, async () => {
      const state = await this.state(payload.grantId);
      if (state.kind !== 'RequestedJitAccount') return;
      const { account } = state;
      const password = await this.vault.reveal(jitAccountSecretId(payload.grantId), 1);
      const { access, connector } = await this.targets.access(account.target);
      await connector.createAccount(access, { username: account.username, password, memberOf: account.targetRole, ...(account.expiresAt !== undefined && { validUntil: account.expiresAt }) });
      const recorded = await this.runtime.db.transaction(async (outcome) => {
        const { events } = await this.run(payload.grantId, { type: 'RecordJitAccountCreated', data: { grantId: payload.grantId, now: this.now() } }, { actor: 'system:privileged-jit' }, outcome);
        await this.scheduler.cancel(outcome, `jit-create:${payload.grantId}`);
        return events.length > 0;
      });
      // The grant ended while the role was being made, and its drop may have found nothing to drop: drop what was just made.
      if (!recorded) await connector.dropAccount(access, account.username);
    });
  }

  /** DROP_JIT_ACCOUNT: an ending account is claimed; once the claim commits, the role is disabled, its sessions ended, it is dropped and recorded, and its undelivered password leaves the vault. */
  async dropAccount(tx: SqlExecutor, payload: { grantId: string; attempt?: number }): Promise<void> {
    if ((await this.state(payload.grantId, tx)).kind !== 'EndingJitAccount') return;
    await this.work.claim(tx, { key: `jit-drop:${payload.grantId}`, kind: DROP_JIT_ACCOUNT, payload }, async () => {
      const state = await this.state(payload.grantId);
      if (state.kind !== 'EndingJitAccount') return;
      const { access, connector } = await this.targets.access(state.account.target);
      const { sessionsTerminated } = await connector.dropAccount(access, state.account.username);
      await this.runtime.db.transaction(async (outcome) => {
        await this.run(payload.grantId, { type: 'RecordJitAccountDropped', data: { grantId: payload.grantId, sessionsTerminated, now: this.now() } }, { actor: 'system:privileged-jit' }, outcome);
        await this.vault.delete(outcome, jitAccountSecretId(payload.grantId));
        await this.scheduler.cancel(outcome, `jit-drop:${payload.grantId}`);
      });
    });
  }

  /** Hands the credential to the beneficiary, once: the vault forgets it in the same transaction. */
  async deliver(identityId: string, grantId: string, meta: CommandMeta): Promise<JitCredential> {
    return this.runtime.db.transaction(async (tx) => {
      const { state } = await this.run(grantId, { type: 'DeliverJitCredential', data: { grantId, identityId, now: this.now() } }, meta, tx);
      if (state.kind === 'NoJitAccount') throw new Error('unreachable: delivered without an account');
      const password = await this.vault.reveal(jitAccountSecretId(grantId), 1, tx);
      await this.vault.delete(tx, jitAccountSecretId(grantId));
      const { access } = await this.targets.access(state.account.target, tx);
      return {
        grantId,
        username: state.account.username,
        password,
        host: access.host,
        port: access.port,
        database: access.database,
        ...(state.account.expiresAt !== undefined && { expiresAt: state.account.expiresAt }),
      };
    });
  }

  /**
   * Drops, on every target, the login roles Custos marked as its own that no live account
   * explains (made by hand, or left by a record lost), each recorded on its target. The roles
   * are listed before the view is caught up: a role exists only after its request committed, so
   * the view then knows every role that is explained.
   */
  async reconcile(): Promise<Array<{ target: string; username: string; sessionsTerminated: number }>> {
    const dropped: Array<{ target: string; username: string; sessionsTerminated: number }> = [];
    for (const target of await this.view.targets()) {
      try {
        const { access, connector } = await this.targets.access(target.key);
        const names = await connector.listAccounts(access, JIT_PREFIX);
        await this.view.caughtUp();
        const live = await this.view.liveJitAccounts(target.key);
        for (const username of names.filter((name) => !live.has(name))) {
          const { sessionsTerminated } = await connector.dropAccount(access, username);
          await this.runtime.db.transaction((tx) =>
            handleCommand(
              this.runtime.store,
              targetStreamId(target.key),
              targetDecider,
              { type: 'RecordUnexplainedAccountDropped', data: { key: target.key, username, sessionsTerminated, now: this.now() } },
              { actor: 'system:privileged-reconciliation' },
              tx,
            ),
          );
          this.runtime.logger.warn({ target: target.key, username, sessionsTerminated }, 'dropped a custos_ role that no live grant explains');
          dropped.push({ target: target.key, username, sessionsTerminated });
        }
      } catch (error) {
        if (!(error instanceof ConnectorError)) throw error;
        this.runtime.logger.warn({ target: target.key, reason: error.reason }, 'reconciliation could not reach the target; next time');
      }
    }
    return dropped;
  }

  async state(grantId: string, tx?: SqlExecutor): Promise<JitAccountState> {
    return (await loadAggregate(this.runtime.store, jitAccountStreamId(grantId), jitAccountDecider, tx)).state;
  }

  private run(grantId: string, command: JitAccountCommand, meta: CommandMeta, tx: SqlExecutor): Promise<{ events: JitAccountEvent[]; state: JitAccountState }> {
    return handleCommand(this.runtime.store, jitAccountStreamId(grantId), jitAccountDecider, command, meta, tx);
  }

  private now(): string {
    return this.runtime.clock().toISOString();
  }
}

