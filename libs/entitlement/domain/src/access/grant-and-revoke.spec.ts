import type { AccessEvent } from '@custos/entitlement/contracts';
import type { SodPolicyView } from '../policies/sod';
import {
  DurationExceedsMaximum,
  HeldByBirthright,
  IdentityTerminated,
  NotHeld,
  SodViolation,
  ValidationFailed,
} from '../errors';
import { ADMIN, IDENTITY, LATER, NOW, accessGranted, accessRevoked, accessTerminated } from '../testing/builders';
import { deciderSpec } from '@custos/platform/domain/testing';
import type { AccessCommand, GrantAccess, RevokeAccess } from './commands';
import { accessDecider } from './index';
import type { AccessState } from './state';

const spec = deciderSpec<AccessCommand, AccessEvent, AccessState>(accessDecider);

const IN_ONE_HOUR = '2026-03-02T10:00:00.000Z';
const IN_ONE_DAY = '2026-03-03T09:00:00.000Z';

const payVsApprove: SodPolicyView = { key: 'pay-vs-approve', conflicting: [['erp:vendor-create'], ['erp:payment-approve']], mode: 'prevent', severity: 'high' };
const approveOnly: SodPolicyView = { ...payVsApprove, key: 'pay-vs-approve-soft', mode: 'approve' };

const grant = (data: Partial<GrantAccess['data']> = {}): GrantAccess => ({
  type: 'GrantAccess',
  data: { identityId: IDENTITY, entitlement: 'github:org-admin', source: 'admin', reason: 'needed for work', now: NOW, privileged: false, grantedBy: { actor: ADMIN, amr: ['pwd'] }, sodPolicies: [], commandId: 'cmd-2', ...data },
});
const revoke = (data: Partial<RevokeAccess['data']> = {}): RevokeAccess => ({
  type: 'RevokeAccess',
  data: { identityId: IDENTITY, reason: 'admin', now: LATER, ...data },
});

describe('access: grants and revocations', () => {
  describe('given an identity without access', () => {
    it('an admin grant gives a grant with id `${commandId}:${entitlement}`', () => {
      spec.given([]).when(grant()).then([accessGranted({ grantId: 'cmd-2:github:org-admin', entitlement: 'github:org-admin', source: 'admin' })]);
    });

    it('a request grant carries the request, the role and the end', () => {
      spec
        .given([])
        .when(grant({ source: 'request', requestId: 'req-1', role: 'github-admins', expiresAt: IN_ONE_DAY }))
        .then([
          accessGranted({ grantId: 'cmd-2:github:org-admin', entitlement: 'github:org-admin', source: 'request', requestId: 'req-1', role: 'github-admins', expiresAt: IN_ONE_DAY }),
        ]);
    });

    it('a break-glass grant is given even against a prevent policy', () => {
      spec
        .given([accessGranted({ grantId: 'g-1', entitlement: 'erp:vendor-create', source: 'admin' })])
        .when(grant({ entitlement: 'erp:payment-approve', source: 'break-glass', expiresAt: IN_ONE_HOUR, sodPolicies: [payVsApprove] }))
        .then([accessGranted({ grantId: 'cmd-2:erp:payment-approve', entitlement: 'erp:payment-approve', source: 'break-glass', expiresAt: IN_ONE_HOUR })]);
    });

    it.each<[string, Partial<GrantAccess['data']>, string]>([
      ['a request grant without its request id', { source: 'request' }, 'requestId'],
      ['a break-glass grant without an end', { source: 'break-glass' }, 'expiresAt'],
      ['an end that is not after now', { expiresAt: NOW }, 'expiresAt'],
      ['a birthright source', { source: 'birthright' as never }, 'source'],
      ['a blank entitlement', { entitlement: '' }, 'entitlement'],
    ])('refuses %s', (_description, data, field) => {
      spec
        .given([])
        .when(grant(data))
        .thenThrows(ValidationFailed, (error) => expect(error.errors.map((e) => e.field)).toEqual([field]));
    });

    it.each(['P300000Y', 'PT99999999999999999999H', 'P11Y'])('an absurd maxDuration stored before durations were bounded (%s) caps at ten years instead of failing', (maxDuration) => {
      spec
        .given([])
        .when(grant({ expiresAt: IN_ONE_DAY, maxDuration }))
        .then([accessGranted({ grantId: 'cmd-2:github:org-admin', entitlement: 'github:org-admin', source: 'admin', expiresAt: IN_ONE_DAY })]);
      spec
        .given([])
        .when(grant({ expiresAt: '2036-03-03T09:00:00.000Z', maxDuration }))
        .thenThrows(DurationExceedsMaximum, (error) => expect(error.latestExpiry).toBe('2036-03-02T09:00:00.000Z'));
    });

    it('refuses a just-in-time grant longer than the entitlement maxDuration', () => {
      spec
        .given([])
        .when(grant({ source: 'request', requestId: 'req-1', expiresAt: IN_ONE_DAY, maxDuration: 'PT8H' }))
        .thenThrows(DurationExceedsMaximum, (error) => expect(error).toMatchObject({ latestExpiry: '2026-03-02T17:00:00.000Z', code: 'duration-exceeds-maximum' }));
    });

    it('gives a just-in-time grant within the maxDuration', () => {
      spec
        .given([])
        .when(grant({ source: 'request', requestId: 'req-1', expiresAt: IN_ONE_HOUR, maxDuration: 'PT8H' }))
        .then([accessGranted({ grantId: 'cmd-2:github:org-admin', entitlement: 'github:org-admin', source: 'request', requestId: 'req-1', expiresAt: IN_ONE_HOUR })]);
    });

    it('an admin revocation of something not held fails', () => {
      spec
        .given([])
        .when(revoke({ entitlement: 'github:org-admin' }))
        .thenThrows(NotHeld, (error) => expect(error).toMatchObject({ selector: { entitlement: 'github:org-admin' }, code: 'not-held' }));
    });

    it('a review revocation of something not held gives nothing', () => {
      spec.given([]).when(revoke({ grantId: 'g-gone', reason: 'review' })).then([]);
    });

    it('a revocation names exactly one selector', () => {
      spec.given([]).when(revoke({ grantId: 'g-1', entitlement: 'github:org-admin' })).thenThrows(ValidationFailed);
      spec.given([]).when(revoke({})).thenThrows(ValidationFailed);
    });
  });

  describe('given a granted entitlement', () => {
    const adminGrant = accessGranted({ grantId: 'cmd-2:github:org-admin', entitlement: 'github:org-admin', source: 'admin' });
    const requestGrant = accessGranted({ grantId: 'cmd-9:jira:admin', entitlement: 'jira:admin', source: 'request', requestId: 'req-1', expiresAt: IN_ONE_DAY });

    it('the same command again gives nothing', () => {
      spec.given([adminGrant]).when(grant()).then([]);
    });

    it('the same admin command after its grant was revoked grants again, under a new id', () => {
      const revoked = accessRevoked({ grantId: 'cmd-2:github:org-admin', entitlement: 'github:org-admin', source: 'admin', reason: 'admin', revokedAt: LATER });
      spec
        .given([adminGrant, revoked])
        .when(grant({ now: LATER }))
        .then([accessGranted({ grantId: 'cmd-2:github:org-admin~2', entitlement: 'github:org-admin', source: 'admin', grantedAt: LATER })]);
      const regranted = accessGranted({ grantId: 'cmd-2:github:org-admin~2', entitlement: 'github:org-admin', source: 'admin', grantedAt: LATER });
      spec.given([adminGrant, revoked, regranted]).when(grant({ now: LATER })).then([]);
    });

    it('the same admin command after its grant expired grants again', () => {
      const shortGrant = accessGranted({ grantId: 'cmd-2:github:org-admin', entitlement: 'github:org-admin', source: 'admin', expiresAt: IN_ONE_HOUR });
      const expired = accessRevoked({ grantId: 'cmd-2:github:org-admin', entitlement: 'github:org-admin', source: 'admin', reason: 'expired', revokedAt: IN_ONE_DAY });
      spec
        .given([shortGrant, expired])
        .when(grant({ now: IN_ONE_DAY }))
        .then([accessGranted({ grantId: 'cmd-2:github:org-admin~2', entitlement: 'github:org-admin', source: 'admin', grantedAt: IN_ONE_DAY })]);
    });

    it('a break-glass command after its grant ended still gives nothing: emergency access is not renewed by a retry', () => {
      const breakGlass = accessGranted({ grantId: 'cmd-2:github:org-admin', entitlement: 'github:org-admin', source: 'break-glass', expiresAt: IN_ONE_HOUR });
      const expired = accessRevoked({ grantId: 'cmd-2:github:org-admin', entitlement: 'github:org-admin', source: 'break-glass', reason: 'expired', revokedAt: IN_ONE_DAY });
      spec.given([breakGlass, expired]).when(grant({ source: 'break-glass', expiresAt: LATER, now: IN_ONE_DAY })).then([]);
    });

    it('the same request granted again by another command gives nothing', () => {
      spec.given([requestGrant]).when(grant({ entitlement: 'jira:admin', source: 'request', requestId: 'req-1', commandId: 'cmd-10' })).then([]);
    });

    it('the same request granted again after its grant ended still gives nothing', () => {
      spec
        .given([requestGrant, accessRevoked({ grantId: 'cmd-9:jira:admin', entitlement: 'jira:admin', source: 'request', reason: 'expired' })])
        .when(grant({ entitlement: 'jira:admin', source: 'request', requestId: 'req-1', commandId: 'cmd-10' }))
        .then([]);
    });

    it('an admin grant already covered by a permanent admin grant gives nothing', () => {
      spec.given([adminGrant]).when(grant({ commandId: 'cmd-3', expiresAt: IN_ONE_DAY })).then([]);
    });

    it('an admin grant lasting longer than the held one is a new grant', () => {
      const shortGrant = accessGranted({ grantId: 'cmd-1:github:org-admin', entitlement: 'github:org-admin', source: 'admin', expiresAt: IN_ONE_HOUR });
      spec
        .given([shortGrant])
        .when(grant({ commandId: 'cmd-3', expiresAt: IN_ONE_DAY }))
        .then([accessGranted({ grantId: 'cmd-3:github:org-admin', entitlement: 'github:org-admin', source: 'admin', expiresAt: IN_ONE_DAY })]);
    });

    it('an admin revocation of the entitlement revokes its grants', () => {
      spec
        .given([adminGrant, requestGrant])
        .when(revoke({ entitlement: 'github:org-admin', detail: 'ticket SEC-12' }))
        .then([accessRevoked({ grantId: 'cmd-2:github:org-admin', entitlement: 'github:org-admin', source: 'admin', reason: 'admin', revokedAt: LATER, detail: 'ticket SEC-12' })]);
    });

    it('a review revocation revokes one grant by id; repeating it gives nothing', () => {
      const revoked = accessRevoked({ grantId: 'cmd-9:jira:admin', entitlement: 'jira:admin', source: 'request', reason: 'review', revokedAt: LATER });
      spec.given([adminGrant, requestGrant]).when(revoke({ grantId: 'cmd-9:jira:admin', reason: 'review' })).then([revoked]);
      spec.given([adminGrant, requestGrant, revoked]).when(revoke({ grantId: 'cmd-9:jira:admin', reason: 'review' })).then([]);
    });

    it('revoking a request revokes every grant it gave', () => {
      const second = accessGranted({ grantId: 'cmd-9:jira:user', entitlement: 'jira:user', source: 'request', requestId: 'req-1', role: 'jira-team' });
      spec
        .given([requestGrant, second, adminGrant])
        .when(revoke({ requestId: 'req-1', reason: 'request-revoked' }))
        .then([
          accessRevoked({ grantId: 'cmd-9:jira:admin', entitlement: 'jira:admin', source: 'request', reason: 'request-revoked', revokedAt: LATER }),
          accessRevoked({ grantId: 'cmd-9:jira:user', entitlement: 'jira:user', source: 'request', reason: 'request-revoked', revokedAt: LATER }),
        ]);
    });
  });

  describe('given an entitlement held by birthright', () => {
    const birthright = accessGranted({ grantId: 'cmd-1:engineering-staff:engineer:github:member' });

    it('an admin revocation of it is refused: the rule owns it', () => {
      spec
        .given([birthright])
        .when(revoke({ entitlement: 'github:member' }))
        .thenThrows(HeldByBirthright, (error) => expect(error).toMatchObject({ entitlement: 'github:member', ruleKeys: ['engineering-staff'], code: 'held-by-birthright' }));
    });

    it('an admin revocation revokes the admin grant beside it and leaves the birthright grant', () => {
      spec
        .given([birthright, accessGranted({ grantId: 'cmd-4:github:member', source: 'admin' })])
        .when(revoke({ entitlement: 'github:member' }))
        .then([accessRevoked({ grantId: 'cmd-4:github:member', source: 'admin', reason: 'admin', revokedAt: LATER })]);
    });
  });

  describe('given separation-of-duties policies', () => {
    const vendorCreate = accessGranted({ grantId: 'g-1', entitlement: 'erp:vendor-create', source: 'admin' });

    it.each<[string, SodPolicyView[], GrantAccess['data']['source']]>([
      ['a prevent policy refuses an admin grant', [payVsApprove], 'admin'],
      ['a prevent policy refuses a request grant', [payVsApprove], 'request'],
    ])('%s that would create a conflict', (_description, sodPolicies, source) => {
      spec
        .given([vendorCreate])
        .when(grant({ entitlement: 'erp:payment-approve', source, requestId: 'req-1', sodPolicies }))
        .thenThrows(SodViolation, (error) =>
          expect(error.conflicts).toEqual([{ policyKey: 'pay-vs-approve', mode: 'prevent', severity: 'high', left: ['erp:vendor-create'], right: ['erp:payment-approve'] }]),
        );
    });

    it('an approve policy lets a request grant through (the request went through security)', () => {
      spec
        .given([vendorCreate])
        .when(grant({ entitlement: 'erp:payment-approve', source: 'request', requestId: 'req-1', sodPolicies: [approveOnly] }))
        .then([accessGranted({ grantId: 'cmd-2:erp:payment-approve', entitlement: 'erp:payment-approve', source: 'request', requestId: 'req-1' })]);
    });

    it('a conflicting grant that has ended does not count', () => {
      const ended = accessGranted({ grantId: 'g-1', entitlement: 'erp:vendor-create', source: 'admin', expiresAt: IN_ONE_HOUR });
      spec
        .given([ended])
        .when(grant({ entitlement: 'erp:payment-approve', sodPolicies: [payVsApprove], now: IN_ONE_DAY }))
        .then([accessGranted({ grantId: 'cmd-2:erp:payment-approve', entitlement: 'erp:payment-approve', source: 'admin', grantedAt: IN_ONE_DAY })]);
    });
  });

  describe('given a terminated identity', () => {
    it('refuses every grant', () => {
      spec.given([accessTerminated()]).when(grant()).thenThrows(IdentityTerminated, (error) => expect(error.identityId).toBe(IDENTITY));
    });
  });
});
