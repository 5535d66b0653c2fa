import type { AccessEvent } from '@custos/entitlement/contracts';
import { deciderSpec } from '@custos/platform/domain/testing';
import { DurationExceedsMaximum, IdentityTerminated, NotHeld, ValidationFailed } from '../errors';
import { IDENTITY, NOW, accessExtended, accessGranted, accessRevoked, accessTerminated } from '../testing/builders';
import type { AccessCommand, ExtendGrant } from './commands';
import { accessDecider } from './index';
import type { AccessState } from './state';

const spec = deciderSpec<AccessCommand, AccessEvent, AccessState>(accessDecider);

const IN_ONE_HOUR = '2026-03-02T10:00:00.000Z';
const IN_THREE_HOURS = '2026-03-02T12:00:00.000Z';
const IN_FIVE_HOURS = '2026-03-02T14:00:00.000Z';

/** Ada's request req-1 gave her db:read until NOW + 1h. */
const requestGrant = accessGranted({ grantId: 'request:req-1:db:read', entitlement: 'db:read', source: 'request', requestId: 'req-1', expiresAt: IN_ONE_HOUR });

const extend = (data: Partial<ExtendGrant['data']> = {}): ExtendGrant => ({
  type: 'ExtendGrant',
  data: { identityId: IDENTITY, requestId: 'req-1', round: 1, expiresAt: IN_THREE_HOURS, reason: 'the migration runs late', extendedBy: 'id-olga', now: NOW, ...data },
});

describe('access: extending a request\'s grant', () => {
  describe('given a request grant held until NOW + 1h', () => {
    it('an approved extension moves its end, keeping its id', () => {
      spec.given([requestGrant]).when(extend()).then([accessExtended()]);
    });

    it('the extended grant now ends at the new end: a second extension starts from it', () => {
      spec
        .given([requestGrant, accessExtended()])
        .when(extend({ round: 2, expiresAt: IN_FIVE_HOURS }))
        .then([accessExtended({ round: 2, previousExpiresAt: IN_THREE_HOURS, expiresAt: IN_FIVE_HOURS })]);
    });

    it('a repeat of the same extension (a retry) changes nothing', () => {
      spec.given([requestGrant, accessExtended()]).when(extend()).then([]);
    });

    it('an end earlier than the grant\'s never shortens it', () => {
      spec.given([requestGrant, accessExtended({ expiresAt: IN_FIVE_HOURS })]).when(extend({ round: 2 })).then([]);
    });

    it('extends every grant of the request still held, not those of other requests', () => {
      spec
        .given([
          requestGrant,
          accessGranted({ grantId: 'request:req-1:db:write', entitlement: 'db:write', source: 'request', requestId: 'req-1', expiresAt: IN_ONE_HOUR }),
          accessGranted({ grantId: 'request:req-2:db:read', entitlement: 'db:read', source: 'request', requestId: 'req-2', expiresAt: IN_ONE_HOUR }),
        ])
        .when(extend())
        .then([accessExtended(), accessExtended({ grantId: 'request:req-1:db:write', entitlement: 'db:write' })]);
    });

    it('refuses an end beyond the entitlement\'s maxDuration from now', () => {
      spec
        .given([requestGrant])
        .when(extend({ maxDuration: 'PT2H' }))
        .thenThrows(DurationExceedsMaximum, (error) => expect(error.latestExpiry).toBe('2026-03-02T11:00:00.000Z'));
    });

    it.each<[string, Partial<ExtendGrant['data']>, string]>([
      ['an end not after now', { expiresAt: NOW }, 'expiresAt'],
      ['round 0 (the request itself, not an extension)', { round: 0 }, 'round'],
      ['a blank approver', { extendedBy: ' ' }, 'extendedBy'],
    ])('refuses %s', (_description, data, field) => {
      spec
        .given([requestGrant])
        .when(extend(data))
        .thenThrows(ValidationFailed, (error) => expect(error.errors.map((e) => e.field)).toEqual([field]));
    });
  });

  describe('given a request whose grant has ended', () => {
    it('refuses to bring back an expired grant (NotHeld), before its expiry job ran', () => {
      spec
        .given([requestGrant])
        .when(extend({ now: IN_ONE_HOUR, expiresAt: IN_THREE_HOURS }))
        .thenThrows(NotHeld, (error) => expect(error.selector).toEqual({ requestId: 'req-1' }));
    });

    it('refuses a revoked one (NotHeld)', () => {
      spec
        .given([requestGrant, accessRevoked({ grantId: 'request:req-1:db:read', entitlement: 'db:read', source: 'request', reason: 'request-revoked' })])
        .when(extend())
        .thenThrows(NotHeld);
    });

    it('a grant without an end has nothing to extend', () => {
      spec.given([accessGranted({ grantId: 'request:req-1:db:read', entitlement: 'db:read', source: 'request', requestId: 'req-1' })]).when(extend()).then([]);
    });
  });

  describe('given a terminated identity', () => {
    it('refuses the extension', () => {
      spec.given([requestGrant, accessTerminated()]).when(extend()).thenThrows(IdentityTerminated);
    });
  });
});
