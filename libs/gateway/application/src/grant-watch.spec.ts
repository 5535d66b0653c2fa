import type { CustosEvent } from '@custos/platform/event-store';
import { GrantWatch } from './grant-watch';
import { LiveSessions, type LiveSession } from './live-sessions';
import type { AccessToTarget, TargetAccess } from './ports';

/** The check as the entitlement context answers it, from grants it has heard of (possibly late). */
class KnownGrants implements AccessToTarget {
  grants: string[] = [];

  async check(): Promise<TargetAccess> {
    return { allowed: this.grants.length > 0, grantIds: [...this.grants], entitlements: ['pg:read'], requestIds: [], privileged: false };
  }
}

function session(sessionId: string, identityId: string, grantIds: string[], cuts: string[]): LiveSession {
  return {
    sessionId,
    identityId,
    target: 'pg-prod',
    grantIds,
    cancelKey: sessionId,
    cancel: () => undefined,
    cut: async (reason, _by, detail) => {
      cuts.push(`${sessionId} ${reason}: ${detail}`);
    },
  };
}

const event = (name: string, data: unknown) => ({ name, data }) as CustosEvent;
const revoked = (grantId: string, reason = 'admin') => event('AccessRevoked', { grantId, identityId: 'ada', entitlement: 'pg:read', source: 'admin', reason, revokedAt: '2026-12-05T10:00:00Z' });

describe('GrantWatch: a session lives as long as some grant behind it', () => {
  let live: LiveSessions;
  let access: KnownGrants;
  let watch: GrantWatch;
  let cuts: string[];

  beforeEach(() => {
    live = new LiveSessions();
    access = new KnownGrants();
    watch = new GrantWatch(live, access);
    cuts = [];
  });

  it('cuts a session whose only grant ended, saying which and why', async () => {
    live.add(session('s1', 'ada', ['g1'], cuts));
    await watch.onEntitlementEvent(revoked('g1', 'expired'));
    expect(cuts).toEqual(['s1 grant-ended: grant g1 of pg:read ended (expired): no access to target pg-prod remains']);
  });

  it('keeps a session that another live grant still allows, under that grant', async () => {
    const s = session('s1', 'ada', ['g1'], cuts);
    live.add(s);
    access.grants = ['g2'];
    await watch.onEntitlementEvent(revoked('g1'));
    expect(cuts).toEqual([]);
    expect(s.grantIds).toEqual(['g2']);
  });

  it('cuts when the check has not heard of the revocations yet: two grants ending together', async () => {
    live.add(session('s1', 'ada', ['g1', 'g2'], cuts));
    access.grants = ['g1', 'g2']; // stale: the check's view lags the events
    await watch.onEntitlementEvent(revoked('g1'));
    expect(cuts).toEqual([]);
    await watch.onEntitlementEvent(revoked('g2'));
    expect(cuts).toHaveLength(1);
  });

  it("cuts every session of a leaver, and no one else's", async () => {
    live.add(session('s1', 'ada', ['g1'], cuts));
    live.add(session('s2', 'ada', ['g3'], cuts));
    live.add(session('s3', 'bob', ['g9'], cuts));
    await watch.onEntitlementEvent(event('AccessTerminated', { identityId: 'ada', at: '2026-12-05T10:00:00Z' }));
    expect(cuts.sort()).toEqual(['s1 leaver: access of ada ended: the identity left', 's2 leaver: access of ada ended: the identity left']);
  });

  it('leaves alone sessions of other grants and a redelivered end', async () => {
    live.add(session('s1', 'ada', ['g1'], cuts));
    await watch.onEntitlementEvent(revoked('g7'));
    expect(cuts).toEqual([]);
  });
});
