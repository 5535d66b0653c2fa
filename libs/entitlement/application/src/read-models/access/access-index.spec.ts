import { isDeepStrictEqual } from 'node:util';
import type { AccessEvent, Grant } from '@custos/entitlement/contracts';
import { accessDecider, AccessState, checkAccess } from '@custos/entitlement/domain';
import { seededRandom } from '@custos/platform/testing';
import { AccessIndex } from './access-index';

const ID = 'id-1';
const T0 = '2026-03-02T09:00:00.000Z';
const ms = (iso: string) => Date.parse(iso);

const granted = (grant: Partial<Grant> & { grantId: string; entitlement: string }, identityId = ID): AccessEvent => ({
  type: 'AccessGranted',
  data: { identityId, source: 'request', grantedAt: T0, reason: 'needed for the audit', ...grant },
});
const revoked = (grantId: string, entitlement: string, identityId = ID): AccessEvent => ({
  type: 'AccessRevoked',
  data: { identityId, grantId, entitlement, source: 'request', reason: 'admin', revokedAt: T0 },
});
const terminated = (identityId = ID): AccessEvent => ({ type: 'AccessTerminated', data: { identityId, at: T0 } });
const reinstated = (identityId = ID): AccessEvent => ({ type: 'AccessReinstated', data: { identityId, at: T0 } });

function indexOf(...events: AccessEvent[]): AccessIndex {
  const index = new AccessIndex();
  for (const event of events) index.apply(event.data.identityId, event);
  return index;
}

describe('AccessIndex: events in, decisions out', () => {
  it('allows a held entitlement and names the grant', () => {
    const index = indexOf(granted({ grantId: 'g-1', entitlement: 'aws:admin' }));
    expect(index.check(ID, 'aws:admin', ms(T0))).toEqual({ allowed: true, reason: 'granted', grantIds: ['g-1'] });
  });

  it('denies an entitlement not held, and an identity nobody granted anything', () => {
    const index = indexOf(granted({ grantId: 'g-1', entitlement: 'aws:admin' }));
    expect(index.check(ID, 'slack:member', ms(T0))).toEqual({ allowed: false, reason: 'not-granted', grantIds: [] });
    expect(index.check('nobody', 'aws:admin', ms(T0))).toEqual({ allowed: false, reason: 'not-granted', grantIds: [] });
  });

  it('denies an expired grant from its expiresAt on, before any expiry job revokes it', () => {
    const index = indexOf(granted({ grantId: 'g-1', entitlement: 'aws:admin', expiresAt: '2026-03-02T10:00:00.000Z' }));
    expect(index.check(ID, 'aws:admin', ms('2026-03-02T09:59:59.999Z'))).toEqual({
      allowed: true,
      reason: 'granted',
      grantIds: ['g-1'],
      expiresAt: '2026-03-02T10:00:00.000Z',
    });
    expect(index.check(ID, 'aws:admin', ms('2026-03-02T10:00:00.000Z'))).toEqual({ allowed: false, reason: 'expired', grantIds: [] });
  });

  it('compares ends as instants, and reports the latest end of several grants', () => {
    const index = indexOf(
      granted({ grantId: 'g-1', entitlement: 'aws:admin', expiresAt: '2026-03-02T11:00:00+01:00' }),
      granted({ grantId: 'g-2', entitlement: 'aws:admin', expiresAt: '2026-03-02T12:00:00Z' }),
    );
    expect(index.check(ID, 'aws:admin', ms('2026-03-02T10:30:00Z'))).toEqual({ allowed: true, reason: 'granted', grantIds: ['g-2'], expiresAt: '2026-03-02T12:00:00Z' });
    expect(index.check(ID, 'aws:admin', ms('2026-03-02T09:30:00Z'))).toEqual({
      allowed: true,
      reason: 'granted',
      grantIds: ['g-1', 'g-2'],
      expiresAt: '2026-03-02T12:00:00Z',
    });
  });

  it('reports no end when any allowing grant is permanent', () => {
    const index = indexOf(granted({ grantId: 'g-1', entitlement: 'aws:admin', expiresAt: '2026-03-02T10:00:00.000Z' }), granted({ grantId: 'g-2', entitlement: 'aws:admin', source: 'birthright' }));
    expect(index.check(ID, 'aws:admin', ms(T0))).toEqual({ allowed: true, reason: 'granted', grantIds: ['g-1', 'g-2'] });
  });

  it('denies a terminated identity everything from AccessTerminated on, before its revocations, until reinstated', () => {
    const index = indexOf(granted({ grantId: 'g-1', entitlement: 'aws:admin' }), terminated());
    expect(index.check(ID, 'aws:admin', ms(T0))).toEqual({ allowed: false, reason: 'terminated', grantIds: [] });
    expect(index.of(ID)).toMatchObject({ status: 'terminated', terminatedAt: T0 });
    index.apply(ID, revoked('g-1', 'aws:admin'));
    index.apply(ID, reinstated());
    expect(index.check(ID, 'aws:admin', ms(T0))).toEqual({ allowed: false, reason: 'not-granted', grantIds: [] });
    index.apply(ID, granted({ grantId: 'g-2', entitlement: 'aws:admin' }));
    expect(index.check(ID, 'aws:admin', ms(T0))).toEqual({ allowed: true, reason: 'granted', grantIds: ['g-2'] });
  });

  it('removes a revoked grant and keeps the others of the same entitlement', () => {
    const index = indexOf(granted({ grantId: 'g-1', entitlement: 'aws:admin' }), granted({ grantId: 'g-2', entitlement: 'aws:admin', source: 'admin' }), revoked('g-1', 'aws:admin'));
    expect(index.check(ID, 'aws:admin', ms(T0))).toEqual({ allowed: true, reason: 'granted', grantIds: ['g-2'] });
    expect(index.grantCount()).toBe(1);
  });

  it('keeps identities apart', () => {
    const index = indexOf(granted({ grantId: 'g-1', entitlement: 'aws:admin' }, 'a'), terminated('b'), granted({ grantId: 'g-2', entitlement: 'aws:admin' }, 'b'));
    expect(index.check('a', 'aws:admin', ms(T0)).allowed).toBe(true);
    expect(index.check('b', 'aws:admin', ms(T0)).reason).toBe('terminated');
    expect(index.size).toBe(2);
  });

  it('gives GET /access every field of the grants held, without fields the event did not carry', () => {
    const index = indexOf(
      granted({ grantId: 'g-1', entitlement: 'github:write', source: 'birthright', role: 'engineer', ruleKey: 'eng-default', reason: 'joiner' }),
      granted({ grantId: 'g-2', entitlement: 'aws:admin', requestId: 'req-7', expiresAt: '2026-03-03T09:00:00.000Z' }),
    );
    expect(index.of(ID)).toStrictEqual({
      status: 'active',
      grants: [
        { grantId: 'g-1', entitlement: 'github:write', source: 'birthright', role: 'engineer', ruleKey: 'eng-default', grantedAt: T0, reason: 'joiner' },
        { grantId: 'g-2', entitlement: 'aws:admin', source: 'request', requestId: 'req-7', grantedAt: T0, expiresAt: '2026-03-03T09:00:00.000Z', reason: 'needed for the audit' },
      ],
    });
    expect(index.of('nobody')).toBeUndefined();
  });

  it('ignores MoverReviewFlagged, SodExceptionRecorded and revocations of grants it does not hold', () => {
    const index = indexOf(
      granted({ grantId: 'g-1', entitlement: 'aws:admin' }),
      { type: 'MoverReviewFlagged', data: { identityId: ID, grantIds: ['g-1'], moveId: 'm-1', flaggedAt: T0 } },
      { type: 'SodExceptionRecorded', data: { identityId: ID, grantId: 'g-1', entitlement: 'aws:admin', conflicts: [], reason: 'approved', approvedBy: 'ciso', recordedAt: T0 } },
      revoked('g-404', 'aws:admin'),
      revoked('g-1', 'aws:admin', 'other'),
    );
    expect(index.check(ID, 'aws:admin', ms(T0)).allowed).toBe(true);
  });
});

describe('AccessIndex: an extended grant', () => {
  it('allows until the new end and reports it, keeping the grant id', () => {
    const index = indexOf(granted({ grantId: 'g-1', entitlement: 'aws:admin', requestId: 'req-1', expiresAt: '2026-03-02T10:00:00.000Z' }), {
      type: 'AccessExtended',
      data: { identityId: ID, grantId: 'g-1', entitlement: 'aws:admin', requestId: 'req-1', round: 1, previousExpiresAt: '2026-03-02T10:00:00.000Z', expiresAt: '2026-03-02T12:00:00.000Z', reason: 'more time', extendedBy: 'olga', extendedAt: T0 },
    });
    expect(index.check(ID, 'aws:admin', ms('2026-03-02T11:00:00.000Z'))).toEqual({ allowed: true, reason: 'granted', grantIds: ['g-1'], expiresAt: '2026-03-02T12:00:00.000Z' });
    expect(index.check(ID, 'aws:admin', ms('2026-03-02T12:00:00.000Z'))).toEqual({ allowed: false, reason: 'expired', grantIds: [] });
    expect(index.of(ID)?.grants).toEqual([expect.objectContaining({ grantId: 'g-1', expiresAt: '2026-03-02T12:00:00.000Z' })]);
  });
});

describe('AccessIndex agrees with the access decider', () => {
  it('answers as checkAccess over evolve for random histories, at many instants', () => {
    const next = seededRandom(42);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)];
    const identities = ['a', 'b', 'c', 'd'];
    const entitlements = ['aws:admin', 'aws:read', 'slack:member'];
    const base = ms(T0);
    const instants = Array.from({ length: 8 }, (_, i) => new Date(base + i * 30 * 60_000).toISOString());
    const mismatches: unknown[] = [];
    for (let round = 0; round < 300; round++) {
      const index = new AccessIndex();
      const states = new Map<string, AccessState>();
      const held = new Map<string, Array<{ grantId: string; entitlement: string }>>();
      for (let step = 0; step < 40; step++) {
        const identityId = pick(identities);
        const roll = next();
        let event: AccessEvent;
        const mine = held.get(identityId) ?? [];
        if (roll < 0.55 || mine.length === 0) {
          const entitlement = pick(entitlements);
          const grantId = `g-${round}-${step}`;
          const expiresAt = next() < 0.5 ? undefined : pick(instants);
          event = granted({ grantId, entitlement, ...(expiresAt && { expiresAt }) }, identityId);
          held.set(identityId, [...mine, { grantId, entitlement }]);
        } else if (roll < 0.8) {
          const victim = pick(mine);
          event = revoked(victim.grantId, victim.entitlement, identityId);
          held.set(identityId, mine.filter((g) => g.grantId !== victim.grantId));
        } else if (roll < 0.85) {
          event = terminated(identityId);
        } else if (roll < 0.88) {
          const target = pick(mine);
          event = {
            type: 'AccessExtended',
            data: { identityId, grantId: target.grantId, entitlement: target.entitlement, requestId: 'req', round: 1, previousExpiresAt: T0, expiresAt: pick(instants), reason: 'more time', extendedBy: 'olga', extendedAt: T0 },
          };
        } else if (roll < 0.9) {
          const target = pick(mine);
          event = {
            type: 'SodExceptionRecorded',
            data: { identityId, grantId: target.grantId, entitlement: target.entitlement, conflicts: [], reason: 'approved', approvedBy: 'ciso', recordedAt: T0 },
          };
        } else {
          event = reinstated(identityId);
        }
        index.apply(identityId, event);
        states.set(identityId, accessDecider.evolve(states.get(identityId) ?? accessDecider.initialState(), event));
        for (const entitlement of entitlements) {
          for (const now of instants) {
            const state = states.get(identityId);
            const expected = state
              ? checkAccess({ terminated: state.kind === 'TerminatedAccess', grants: state.grants }, entitlement, now)
              : { allowed: false, reason: 'not-granted', grantIds: [] };
            const actual = index.check(identityId, entitlement, ms(now));
            if (!isDeepStrictEqual(actual, expected)) mismatches.push({ round, step, identityId, entitlement, now, actual, expected });
          }
        }
        const state = states.get(identityId);
        if (!isDeepStrictEqual(index.of(identityId)?.grants, state?.grants) || index.of(identityId)?.status !== (state && (state.kind === 'TerminatedAccess' ? 'terminated' : 'active'))) {
          mismatches.push({ round, step, identityId, of: index.of(identityId), state });
        }
      }
    }
    expect(mismatches.slice(0, 3)).toEqual([]);
  });
});
