import type { AccessEvent } from '@custos/entitlement/contracts';
import type { SodPolicyView } from '../policies/sod';
import { SodExceptionRequired, SodViolation, ValidationFailed } from '../errors';
import { ADMIN, LATER, NOW, accessGranted, accessRevoked, sodExceptionRecorded, grantAccess, paymentApproveGranted } from '../testing/builders';
import { deciderSpec } from '@custos/platform/domain/testing';
import type { AccessCommand, GrantAccess } from './commands';
import { accessDecider } from './index';
import type { AccessState } from './state';

const spec = deciderSpec<AccessCommand, AccessEvent, AccessState>(accessDecider);

const IN_ONE_HOUR = '2026-03-02T10:00:00.000Z';
const approvePolicy: SodPolicyView = { key: 'pay-vs-approve', conflicting: [['erp:vendor-create'], ['erp:payment-approve']], mode: 'approve', severity: 'high' };
const preventPolicy: SodPolicyView = { key: 'create-vs-release', conflicting: [['erp:vendor-create'], ['erp:payment-release']], mode: 'prevent', severity: 'critical' };
const exception = { reason: 'month-end close, ticket FIN-7', approvedBy: ADMIN };

const grant = (data: Partial<GrantAccess['data']> = {}): GrantAccess => grantAccess({ sodPolicies: [approvePolicy, preventPolicy], ...data });
const paymentApprove = paymentApproveGranted;

describe('access: SoD exceptions', () => {
  const vendorCreate = accessGranted({ grantId: 'g-1', entitlement: 'erp:vendor-create', source: 'admin' });

  describe('given an identity holding one side of an approve policy', () => {
    it.each<[string, Partial<GrantAccess['data']>, AccessEvent[]]>([
      ['an admin grant with an exception is given and the exception recorded beside it', { sodException: exception }, [paymentApprove(), sodExceptionRecorded()]],
      [
        'a request grant is given without an exception (its security step approved it)',
        { source: 'request', requestId: 'req-1' },
        [paymentApprove({ source: 'request', requestId: 'req-1' })],
      ],
      [
        'a request grant with an exception records it too',
        { source: 'request', requestId: 'req-1', sodException: { reason: 'approved in req-1', approvedBy: 'sec-1' } },
        [paymentApprove({ source: 'request', requestId: 'req-1' }), sodExceptionRecorded({ reason: 'approved in req-1', approvedBy: 'sec-1' })],
      ],
      [
        'a break-glass grant with an exception records it',
        { source: 'break-glass', expiresAt: IN_ONE_HOUR, sodException: exception },
        [paymentApprove({ source: 'break-glass', expiresAt: IN_ONE_HOUR }), sodExceptionRecorded()],
      ],
      ['an exception for a grant that creates no conflict records nothing', { entitlement: 'github:member', sodException: exception }, [
        accessGranted({ grantId: 'cmd-2:github:member', entitlement: 'github:member', source: 'admin' }),
      ]],
    ])('%s', (_description, data, expected) => {
      spec.given([vendorCreate]).when(grant(data)).then(expected);
    });

    it('an admin grant without an exception is refused, naming the conflicting entitlements', () => {
      spec
        .given([vendorCreate])
        .when(grant())
        .thenThrows(SodExceptionRequired, (error) => {
          expect(error.conflicts).toEqual([{ policyKey: 'pay-vs-approve', mode: 'approve', severity: 'high', left: ['erp:vendor-create'], right: ['erp:payment-approve'] }]);
          expect(error).toMatchObject({ code: 'sod-exception-required' });
          expect(error.message).toContain('erp:vendor-create');
        });
    });

    it('an exception does not lift a prevent policy', () => {
      spec
        .given([vendorCreate])
        .when(grant({ entitlement: 'erp:payment-release', sodException: exception }))
        .thenThrows(SodViolation, (error) => expect(error.conflicts.map((c) => c.policyKey)).toEqual(['create-vs-release']));
    });

    it.each<[string, GrantAccess['data']['sodException'], string]>([
      ['a blank reason', { reason: ' ', approvedBy: ADMIN }, 'sodException.reason'],
      ['a blank approver', { reason: 'ticket FIN-7', approvedBy: '' }, 'sodException.approvedBy'],
    ])('refuses an exception with %s', (_description, sodException, field) => {
      spec
        .given([vendorCreate])
        .when(grant({ sodException }))
        .thenThrows(ValidationFailed, (error) => expect(error.errors.map((e) => e.field)).toEqual([field]));
    });

    it('the same command again records nothing more', () => {
      spec.given([vendorCreate, paymentApprove(), sodExceptionRecorded()]).when(grant({ sodException: exception })).then([]);
    });
  });

  describe('given a recorded exception', () => {
    const fold = (events: AccessEvent[]) => events.reduce(accessDecider.evolve, accessDecider.initialState());

    it('the state lists it while its grant is held', () => {
      expect(fold([vendorCreate, paymentApprove(), sodExceptionRecorded()]).sodExceptions).toEqual([
        {
          grantId: 'cmd-2:erp:payment-approve',
          entitlement: 'erp:payment-approve',
          conflicts: sodExceptionRecorded().data.conflicts,
          reason: 'month-end close, ticket FIN-7',
          approvedBy: ADMIN,
          recordedAt: NOW,
        },
      ]);
    });

    it('the exception goes with its grant', () => {
      const revoked = accessRevoked({ grantId: 'cmd-2:erp:payment-approve', entitlement: 'erp:payment-approve', source: 'admin', reason: 'admin', revokedAt: LATER });
      expect(fold([vendorCreate, paymentApprove(), sodExceptionRecorded(), revoked]).sodExceptions).toEqual([]);
    });

    it('a grant of the other side again needs its own exception', () => {
      const revokedVendor = accessRevoked({ grantId: 'g-1', entitlement: 'erp:vendor-create', source: 'admin', reason: 'admin', revokedAt: LATER });
      spec
        .given([vendorCreate, paymentApprove(), sodExceptionRecorded(), revokedVendor])
        .when(grant({ entitlement: 'erp:vendor-create', commandId: 'cmd-3', now: LATER }))
        .thenThrows(SodExceptionRequired);
    });
  });
});
