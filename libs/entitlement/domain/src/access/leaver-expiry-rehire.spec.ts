import type { AccessEvent } from '@custos/entitlement/contracts';
import { IDENTITY, LATER, NOW, accessGranted, accessReinstated, accessRevoked, accessTerminated } from '../testing/builders';
import { deciderSpec } from '@custos/platform/domain/testing';
import type { AccessCommand, ExpireGrant, ReinstateAccess, RevokeAllAccess } from './commands';
import { accessDecider } from './index';
import type { AccessState } from './state';

const spec = deciderSpec<AccessCommand, AccessEvent, AccessState>(accessDecider);

const END = '2026-03-02T17:00:00.000Z';
const BEFORE_END = '2026-03-02T16:59:59.999Z';
const AFTER_END = '2026-03-02T17:00:05.000Z';

const revokeAll = (now = LATER): RevokeAllAccess => ({ type: 'RevokeAllAccess', data: { identityId: IDENTITY, reason: 'leaver', now } });
const expire = (grantId: string, now: string): ExpireGrant => ({ type: 'ExpireGrant', data: { identityId: IDENTITY, grantId, now } });
const reinstate = (now = LATER): ReinstateAccess => ({ type: 'ReinstateAccess', data: { identityId: IDENTITY, now } });

const birthright = accessGranted({ grantId: 'cmd-1:engineering-staff:engineer:github:member' });
const jit = accessGranted({ grantId: 'cmd-2:aws:admin', entitlement: 'aws:admin', source: 'request', requestId: 'req-1', expiresAt: END });
const breakGlass = accessGranted({ grantId: 'cmd-3:db:root', entitlement: 'db:root', source: 'break-glass', expiresAt: END });

describe('access: leavers, expiry and rehire', () => {
  describe('given an identity with birthright, just-in-time and break-glass grants', () => {
    const history = [birthright, jit, breakGlass];

    it('a leaver is terminated first, then loses every grant', () => {
      spec
        .given(history)
        .when(revokeAll())
        .then([
          accessTerminated({ at: LATER }),
          accessRevoked({ grantId: birthright.data.grantId, reason: 'leaver', revokedAt: LATER }),
          accessRevoked({ grantId: jit.data.grantId, entitlement: 'aws:admin', source: 'request', reason: 'leaver', revokedAt: LATER }),
          accessRevoked({ grantId: breakGlass.data.grantId, entitlement: 'db:root', source: 'break-glass', reason: 'leaver', revokedAt: LATER }),
        ]);
    });

    it('a just-in-time grant stays before its end', () => {
      spec.given(history).when(expire(jit.data.grantId, BEFORE_END)).then([]);
    });

    it('a just-in-time grant is revoked at its end', () => {
      spec.given(history).when(expire(jit.data.grantId, END)).then([accessRevoked({ grantId: jit.data.grantId, entitlement: 'aws:admin', source: 'request', reason: 'expired', revokedAt: END })]);
    });

    it('a break-glass grant is revoked after its end', () => {
      spec
        .given(history)
        .when(expire(breakGlass.data.grantId, AFTER_END))
        .then([accessRevoked({ grantId: breakGlass.data.grantId, entitlement: 'db:root', source: 'break-glass', reason: 'expired', revokedAt: AFTER_END })]);
    });

    it('a grant without an end never expires', () => {
      spec.given(history).when(expire(birthright.data.grantId, AFTER_END)).then([]);
    });

    it('an unknown grant does not expire', () => {
      spec.given(history).when(expire('g-unknown', AFTER_END)).then([]);
    });

    it('a reinstatement of an identity that is not terminated gives nothing', () => {
      spec.given(history).when(reinstate()).then([]);
    });
  });

  describe('given an expired grant', () => {
    it('expiring it a second time gives nothing', () => {
      spec
        .given([jit, accessRevoked({ grantId: jit.data.grantId, entitlement: 'aws:admin', source: 'request', reason: 'expired', revokedAt: END })])
        .when(expire(jit.data.grantId, AFTER_END))
        .then([]);
    });
  });

  describe('given an identity without grants', () => {
    it('a leaver is still marked terminated', () => {
      spec.given([]).when(revokeAll(NOW)).then([accessTerminated({ at: NOW })]);
    });
  });

  describe('given a terminated identity', () => {
    const terminated = [jit, accessTerminated({ at: LATER }), accessRevoked({ grantId: jit.data.grantId, entitlement: 'aws:admin', source: 'request', reason: 'leaver', revokedAt: LATER })];

    it('a second leaver gives nothing', () => {
      spec.given(terminated).when(revokeAll()).then([]);
    });

    it('an expiry after the leaver gives nothing', () => {
      spec.given(terminated).when(expire(jit.data.grantId, AFTER_END)).then([]);
    });

    it('a rehire reinstates it', () => {
      spec.given(terminated).when(reinstate('2026-06-01T09:00:00.000Z')).then([accessReinstated({ at: '2026-06-01T09:00:00.000Z' })]);
    });
  });

  describe('given a reinstated identity', () => {
    it('a leaver terminates it again', () => {
      spec.given([accessTerminated(), accessReinstated()]).when(revokeAll()).then([accessTerminated({ at: LATER })]);
    });

    it('a second reinstatement gives nothing', () => {
      spec.given([accessTerminated(), accessReinstated()]).when(reinstate()).then([]);
    });
  });
});
