import { randomUUID } from 'node:crypto';
import { accessStreamId } from '@custos/entitlement/contracts';
import {
  AccessCommand,
  accessDecider,
  addIsoDuration,
  BirthrightReason,
  birthrightAccess,
  UnknownReference,
} from '@custos/entitlement/domain';
import type { SqlExecutor } from '@custos/platform/event-store';
import type { ContextRuntime, DurableScheduler } from '@custos/platform/runtime';
import { CommandMeta, handleCommand } from '@custos/platform/runtime';
import type { CatalogView } from './catalog-view';
import { UnknownIdentity } from './errors';
import type { IdentityProfile, IdentityProfiles } from './identity-profiles';

export const EXPIRE_GRANT = 'expire-grant';

const expiryKey = (grantId: string) => `expire:${grantId}`;

/**
 * AccessService runs the access aggregate's commands. Every grant with an end schedules its
 * expiry in the same transaction, and every revocation drops that job, so time-bound access
 * ends by itself after any crash.
 */
export class AccessService {
  constructor(
    private readonly runtime: ContextRuntime,
    private readonly catalog: CatalogView,
    private readonly profiles: IdentityProfiles,
    private readonly scheduler: DurableScheduler,
  ) {}

  /** Runs one access command inside `tx`, with its expiry bookkeeping. */
  async execute(tx: SqlExecutor, command: AccessCommand, meta: CommandMeta) {
    const result = await handleCommand(this.runtime.store, accessStreamId(command.data.identityId), accessDecider, command, meta, tx);
    for (const event of result.events) {
      if (event.type === 'AccessGranted' && event.data.expiresAt) {
        await this.scheduler.schedule(tx, {
          key: expiryKey(event.data.grantId),
          kind: EXPIRE_GRANT,
          dueAt: new Date(event.data.expiresAt),
          payload: { identityId: event.data.identityId, grantId: event.data.grantId, correlationId: meta.correlationId },
        });
      } else if (event.type === 'AccessRevoked') {
        await this.scheduler.cancel(tx, expiryKey(event.data.grantId));
      }
    }
    return result;
  }

  /**
   * Makes an identity's birthright grants match the rules of the catalog view. Callers catch the
   * view up before opening `tx`: the embedded store has one connection, and a read outside the
   * transaction would wait for it.
   */
  async applyBirthright(tx: SqlExecutor, profile: IdentityProfile, reason: BirthrightReason, commandId: string, meta: CommandMeta) {
    const desired = birthrightAccess(profile, this.catalog.ruleViews(), this.catalog.roleCatalog());
    return this.execute(tx, { type: 'ApplyBirthright', data: { identityId: profile.identityId, desired, reason, now: this.now(), commandId } }, meta);
  }

  /**
   * An administrator's direct grant (source `admin`); the same idempotency key grants once. An
   * `exceptionReason` grants it despite `approve` SoD conflicts, recording the admin as approver.
   */
  async adminGrant(
    input: { identityId: string; entitlement: string; reason: string; duration?: string; exceptionReason?: string; idempotencyKey?: string },
    meta: CommandMeta,
  ) {
    await this.catalog.catchUp();
    const entitlement = this.catalog.entitlement(input.entitlement);
    if (!entitlement) throw new UnknownReference([{ kind: 'entitlement', keys: [input.entitlement] }]);
    if (!(await this.profiles.get(input.identityId))) throw new UnknownIdentity(input.identityId);
    const now = this.now();
    return this.runtime.db.transaction((tx) =>
      this.execute(
        tx,
        {
          type: 'GrantAccess',
          data: {
            identityId: input.identityId,
            entitlement: input.entitlement,
            source: 'admin',
            reason: input.reason,
            now,
            expiresAt: input.duration ? addIsoDuration(now, input.duration) : undefined,
            maxDuration: entitlement.maxDuration,
            sodPolicies: this.catalog.sodPolicyViews(),
            sodException: input.exceptionReason !== undefined ? { reason: input.exceptionReason, approvedBy: meta.actor } : undefined,
            commandId: input.idempotencyKey ? `admin:${input.identityId}:${input.idempotencyKey}` : randomUUID(),
          },
        },
        meta,
      ),
    );
  }

  async adminRevoke(input: { identityId: string; entitlement: string; reason: string }, meta: CommandMeta) {
    return this.runtime.db.transaction((tx) =>
      this.execute(tx, { type: 'RevokeAccess', data: { identityId: input.identityId, entitlement: input.entitlement, reason: 'admin', detail: input.reason, now: this.now() } }, meta),
    );
  }

  /** The scheduler's job: end a time-bound grant (a no-op if it already ended). */
  async expire(tx: SqlExecutor, identityId: string, grantId: string, meta: CommandMeta) {
    return this.execute(tx, { type: 'ExpireGrant', data: { identityId, grantId, now: this.now() } }, meta);
  }

  private now(): string {
    return this.runtime.clock().toISOString();
  }
}
