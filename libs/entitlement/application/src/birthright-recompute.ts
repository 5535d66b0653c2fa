import type { CustosEvent, SqlDatabase } from '@custos/platform/event-store';
import type { BirthrightReason } from '@custos/entitlement/domain';
import type { Inbox } from '@custos/platform/runtime';
import type { Logger } from 'pino';
import type { AccessService } from './access-service';
import type { IdentityProfiles } from './read-models/identity-profiles/identity-profiles';

const TRIGGERS: Record<string, BirthrightReason> = {
  RoleChanged: 'role-changed',
  BirthrightRuleDefined: 'rule-changed',
  BirthrightRuleChanged: 'rule-changed',
};

export const BIRTHRIGHT_RECOMPUTE = 'entitlement-birthright-recompute';

/** True for the catalog changes that re-evaluate every identity's birthright. */
export function triggersRecompute(event: CustosEvent): boolean {
  return Object.prototype.hasOwnProperty.call(TRIGGERS, event.name);
}

/**
 * When a role or a birthright rule changes (or a rule is defined), every active identity is
 * re-evaluated: grants are added and removed with the change as their reason. The catalog view
 * hands each change over as it applies it (at start it replays them all); each change runs in
 * one transaction with its inbox claim, so a finished change is skipped, a crashed one redone,
 * and replicas never do one twice.
 */
export class BirthrightRecompute {
  private queue: CustosEvent[] = [];
  private draining?: Promise<void>;
  private stopped = false;

  constructor(
    private readonly db: SqlDatabase,
    private readonly inbox: Inbox,
    private readonly profiles: IdentityProfiles,
    private readonly access: AccessService,
    private readonly logger: Logger,
  ) {}

  /** Called by the catalog view for each applied event. */
  offer(event: CustosEvent): void {
    if (!triggersRecompute(event) || this.stopped) return;
    this.queue.push(event);
    this.draining ??= this.drain().finally(() => (this.draining = undefined));
  }

  /** Resolves when every offered change has been applied. */
  async idle(): Promise<void> {
    while (this.draining) await this.draining;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.idle();
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0 && !this.stopped) {
      const trigger = this.queue[0];
      try {
        await this.recompute(trigger);
        this.queue.shift();
      } catch (err) {
        this.logger.error({ err, event: trigger.id }, 'birthright recompute failed; retrying');
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  }

  private async recompute(trigger: CustosEvent): Promise<void> {
    const meta = { actor: 'system:birthright-recompute', correlationId: trigger.correlationid, causationId: trigger.id };
    await this.inbox.once(BIRTHRIGHT_RECOMPUTE, trigger.id, async (tx) => {
      for await (const page of this.profiles.active(tx)) {
        for (const profile of page) await this.access.applyBirthright(tx, profile, TRIGGERS[trigger.name], trigger.id, meta);
      }
    });
  }
}
