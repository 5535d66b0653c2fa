import { createHash, randomUUID } from 'node:crypto';
import { type AccessEvent, accessStreamId } from '@custos/entitlement/contracts';
import {
  AccessCommand,
  accessDecider,
  type AccessState,
  addIsoDuration,
  type ApplyBirthright,
  BirthrightReason,
  birthrightAccess,
  latestExpiryOf,
  UnknownReference,
} from '@custos/entitlement/domain';
import type { SqlExecutor } from '@custos/platform/event-store';
import type { ContextRuntime, DurableScheduler, ScheduledJob } from '@custos/platform/runtime';
import { CommandMeta, handleCommands, loadAggregate, unwrap } from '@custos/platform/runtime';
import type { CatalogView } from './read-models/catalog/catalog-view';
import { UnknownIdentity } from './errors';
import type { IdentityProfile, IdentityProfiles } from './read-models/identity-profiles/identity-profiles';

export const EXPIRE_GRANT = 'expire-grant';

/** One access command and who caused it. */
export interface AccessChange {
  command: AccessCommand;
  meta: CommandMeta;
}

/** What an access command did: its events, and its stream's state and version after it. */
export interface AccessOutcome {
  events: AccessEvent[];
  state: AccessState;
  version: number;
}

const expiryKey = (grantId: string) => `expire:${grantId}`;

/**
 * adminGrantCommandId: an admin grant's Idempotency-Key deduplicates per caller and per route
 * (the grant route of one identity), so another admin's key, or the key of another route, never
 * passes for a retry. Hashed: callers and keys are free text, grant ids travel in URLs.
 */
export function adminGrantCommandId(actor: string, identityId: string, idempotencyKey: string): string {
  const digest = createHash('sha256').update(JSON.stringify(['POST /access/{identityId}/grant', actor, identityId, idempotencyKey])).digest('base64url');
  return `admin:${digest.slice(0, 32)}`;
}

/**
 * AccessService runs the access aggregate's commands. Every grant with an end schedules its
 * expiry in the same transaction, an extension moves that job, and every revocation drops it, so time-bound access
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
  async execute(tx: SqlExecutor, command: AccessCommand, meta: CommandMeta): Promise<AccessOutcome> {
    const [outcome] = await this.executeMany(tx, [{ command, meta }]);
    return outcome;
  }

  /**
   * Runs access commands inside `tx` as `execute` on each in turn would, in a few statements
   * whatever their number: one read of every stream, one append, one cancel and one schedule of
   * expiry jobs. Each command sees the events of those before it; one the decider refuses throws
   * before anything is written.
   */
  async executeMany(tx: SqlExecutor, changes: AccessChange[]): Promise<AccessOutcome[]> {
    const handled = await handleCommands(
      this.runtime.store,
      accessDecider,
      changes.map(({ command, meta }) => ({ streamId: accessStreamId(command.data.identityId), command, meta })),
      tx,
    );
    const outcomes = handled.map(unwrap);
    await this.followExpiries(tx, changes.flatMap(({ meta }, i) => outcomes[i].events.map((event) => ({ event, meta }))));
    return outcomes;
  }

  /**
   * Every grant with an end gets its expiry job, every revoked grant loses it. Every key revoked
   * in `decided` is cancelled, then the jobs scheduled after their key's last revocation are
   * written: what scheduling and cancelling event by event would leave.
   */
  private async followExpiries(tx: SqlExecutor, decided: Array<{ event: AccessEvent; meta: CommandMeta }>): Promise<void> {
    const cancelled = new Set<string>();
    const scheduled = new Map<string, ScheduledJob>();
    for (const { event, meta } of decided) {
      if (event.type === 'AccessGranted' && event.data.expiresAt) {
        const key = expiryKey(event.data.grantId);
        scheduled.set(key, {
          key,
          kind: EXPIRE_GRANT,
          dueAt: new Date(event.data.expiresAt),
          payload: { identityId: event.data.identityId, grantId: event.data.grantId, correlationId: meta.correlationId },
        });
      } else if (event.type === 'AccessExtended') {
        // The same key: the job moves to the new end (one that fired at the old end would find the grant not ended and do nothing).
        const key = expiryKey(event.data.grantId);
        scheduled.set(key, {
          key,
          kind: EXPIRE_GRANT,
          dueAt: new Date(event.data.expiresAt),
          payload: { identityId: event.data.identityId, grantId: event.data.grantId, correlationId: meta.correlationId },
        });
      } else if (event.type === 'AccessRevoked') {
        const key = expiryKey(event.data.grantId);
        scheduled.delete(key);
        cancelled.add(key);
      }
    }
    await this.scheduler.cancelMany(tx, [...cancelled]);
    await this.scheduler.scheduleMany(tx, [...scheduled.values()]);
  }

  /**
   * Makes an identity's birthright grants match the rules of the catalog view. Callers catch the
   * view up before opening `tx`: the embedded store has one connection, and a read outside the
   * transaction would wait for it.
   */
  async applyBirthright(tx: SqlExecutor, profile: IdentityProfile, reason: BirthrightReason, commandId: string, meta: CommandMeta) {
    return this.execute(tx, this.birthrightCommand(profile, reason, commandId), meta);
  }

  /** The command that makes an identity's birthright grants match the rules of the catalog view (caught up by the caller). */
  birthrightCommand(profile: IdentityProfile, reason: BirthrightReason, commandId: string): ApplyBirthright {
    const desired = birthrightAccess(profile, this.catalog.ruleViews(), this.catalog.roleCatalog());
    return { type: 'ApplyBirthright', data: { identityId: profile.identityId, desired, reason, now: this.now(), commandId } };
  }

  /**
   * An administrator's direct grant (source `admin`); the same idempotency key of the same admin
   * grants once while that grant is held. An `exceptionReason` grants it despite `approve` SoD
   * conflicts, recording the admin as approver. `amr` is how the admin signed in.
   */
  async adminGrant(
    input: { identityId: string; entitlement: string; reason: string; duration?: string; exceptionReason?: string; idempotencyKey?: string; amr: readonly string[] },
    meta: CommandMeta,
  ) {
    await this.catalog.catchUp();
    const entitlement = this.catalog.entitlement(input.entitlement);
    if (!entitlement) throw new UnknownReference([{ kind: 'entitlement', keys: [input.entitlement] }]);
    if (!(await this.profiles.get(input.identityId))) throw new UnknownIdentity(input.identityId);
    const now = this.now();
    // Checked before the transaction: a duration that is not one, or absurdly long, is a 400 naming it.
    const expiresAt = input.duration !== undefined ? addIsoDuration(now, input.duration, 'duration') : undefined;
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
            expiresAt,
            privileged: entitlement.privileged,
            grantedBy: { actor: meta.actor, amr: input.amr },
            maxDuration: entitlement.maxDuration,
            sodPolicies: this.catalog.sodPolicyViews(),
            sodException: input.exceptionReason !== undefined ? { reason: input.exceptionReason, approvedBy: meta.actor } : undefined,
            commandId: input.idempotencyKey ? adminGrantCommandId(meta.actor, input.identityId, input.idempotencyKey) : randomUUID(),
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

  /**
   * An approved extension of an access request: its grants held now end at `expiresAt` instead,
   * capped by the strictest maxDuration of their entitlements in the catalog now. Callers catch
   * the catalog view up before opening `tx`.
   */
  async extendRequest(
    tx: SqlExecutor,
    input: { identityId: string; requestId: string; round: number; expiresAt: string; reason: string; extendedBy: string },
    meta: CommandMeta,
  ): Promise<AccessOutcome> {
    const now = this.now();
    const { state } = await loadAggregate(this.runtime.store, accessStreamId(input.identityId), accessDecider, tx);
    const caps = state.grants.filter((grant) => grant.requestId === input.requestId).flatMap((grant) => this.catalog.entitlement(grant.entitlement)?.maxDuration ?? []);
    const strictest = caps.reduce<string | undefined>((best, cap) => (best === undefined || Date.parse(latestExpiryOf(now, cap)) < Date.parse(latestExpiryOf(now, best)) ? cap : best), undefined);
    return this.execute(tx, { type: 'ExtendGrant', data: { ...input, ...(strictest !== undefined && { maxDuration: strictest }), now } }, meta);
  }

  /** The scheduler's job: end a time-bound grant (a no-op if it already ended). */
  async expire(tx: SqlExecutor, identityId: string, grantId: string, meta: CommandMeta) {
    return this.execute(tx, { type: 'ExpireGrant', data: { identityId, grantId, now: this.now() } }, meta);
  }

  private now(): string {
    return this.runtime.clock().toISOString();
  }
}
