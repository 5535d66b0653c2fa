import type { AccessRevoked, AccessTerminated } from '@custos/entitlement/contracts';
import type { CustosEvent } from '@custos/platform/event-store';
import type { LiveSessions } from './live-sessions';
import type { AccessToTarget } from './ports';

/** The entitlement events that end sessions: a grant's end (expiry, revoke, review, leaver) and a leaver's termination. */
export const GRANT_WATCH_EVENTS = ['AccessRevoked', 'AccessTerminated'] as const;

/** Each gateway process reads every grant's end (its own durable), since each holds its own sessions. */
export function grantWatchConsumer(gatewayId: string): string {
  return `gateway-grant-watch-${gatewayId}`;
}

/**
 * GrantWatch cuts live sessions whose access ended: a leaver's at once (AccessTerminated), and on
 * AccessRevoked of a grant a session holds, unless the identity still reaches the target through
 * another grant (asked again of the check), in which case the session goes on under that one.
 * A redelivered event finds the session gone and does nothing.
 */
export class GrantWatch {
  /** Grants seen ending, most recent last: a grant never comes back, and the check may not have heard yet. */
  private readonly ended = new Set<string>();

  constructor(
    private readonly live: LiveSessions,
    private readonly access: AccessToTarget,
  ) {}

  async onEntitlementEvent(event: CustosEvent): Promise<void> {
    if (event.name === 'AccessTerminated') {
      const { identityId } = event.data as AccessTerminated['data'];
      await Promise.all(this.live.ofIdentity(identityId).map((s) => s.cut('leaver', 'system:gateway', `access of ${identityId} ended: the identity left`)));
      return;
    }
    if (event.name !== 'AccessRevoked') return;
    const revoked = event.data as AccessRevoked['data'];
    this.remember(revoked.grantId);
    const affected = this.live.ofIdentity(revoked.identityId).filter((s) => s.grantIds.includes(revoked.grantId));
    await Promise.all(
      affected.map(async (session) => {
        const reason = revoked.reason === 'leaver' ? 'leaver' : 'grant-ended';
        // The check answers from a view of the same events, which may not have this revocation (or
        // the one beside it) yet: only a grant not seen ending keeps the session.
        const still = reason === 'grant-ended' ? await this.access.check(session.identityId, session.target) : undefined;
        const remaining = still?.allowed ? still.grantIds.filter((g) => !this.ended.has(g)) : [];
        if (remaining.length > 0) {
          session.grantIds = remaining;
          return;
        }
        await session.cut(reason, 'system:gateway', `grant ${revoked.grantId} of ${revoked.entitlement} ended (${revoked.reason}): no access to target ${session.target} remains`);
      }),
    );
  }

  private remember(grantId: string): void {
    this.ended.add(grantId);
    // Bounded: the oldest go first (a Set iterates in insertion order).
    if (this.ended.size > 100_000) this.ended.delete(this.ended.values().next().value as string);
  }
}
