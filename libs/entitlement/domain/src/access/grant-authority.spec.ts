import type { AccessEvent } from '@custos/entitlement/contracts';
import type { SodPolicyView } from '../policies/sod';
import type { DomainError } from '@custos/platform/domain';
import { SelfApprovedException, SelfGrant, StepUpRequired } from '../errors';
import { ADMIN, IDENTITY, accessGranted, sodExceptionRecorded, grantAccess, paymentApproveGranted } from '../testing/builders';
import { deciderSpec } from '@custos/platform/domain/testing';
import type { AccessCommand, GrantAccess } from './commands';
import { accessDecider } from './index';
import type { AccessState } from './state';

const spec = deciderSpec<AccessCommand, AccessEvent, AccessState>(accessDecider);

const IN_ONE_HOUR = '2026-03-02T10:00:00.000Z';
const approvePolicy: SodPolicyView = { key: 'pay-vs-approve', conflicting: [['erp:vendor-create'], ['erp:payment-approve']], mode: 'approve', severity: 'high' };
const vendorCreate = accessGranted({ grantId: 'g-1', entitlement: 'erp:vendor-create', source: 'admin' });

const grant = (data: Partial<GrantAccess['data']> = {}): GrantAccess => grantAccess({ sodPolicies: [approvePolicy], ...data });
const paymentApprove = paymentApproveGranted;

/** Who may give a grant: never oneself, privileged ones only after multi-factor login, SoD exceptions never for oneself. */
describe('access: who may grant and approve', () => {
  describe('given an identity holding one side of an approve policy', () => {
    it.each<[string, Partial<GrantAccess['data']>, new (...args: never[]) => DomainError, string]>([
      ['an admin granting to themselves is refused', { grantedBy: { actor: IDENTITY, amr: ['pwd', 'mfa'] }, entitlement: 'github:member' }, SelfGrant, 'self-grant'],
      [
        'an admin granting a privileged entitlement to themselves is refused as a self-grant',
        { grantedBy: { actor: IDENTITY, amr: ['pwd'] }, privileged: true, entitlement: 'github:org-admin' },
        SelfGrant,
        'self-grant',
      ],
      [
        'an admin approving their own SoD exception is refused as a self-grant',
        { grantedBy: { actor: IDENTITY, amr: ['mfa'] }, sodException: { reason: 'month-end', approvedBy: IDENTITY } },
        SelfGrant,
        'self-grant',
      ],
      ['an admin without mfa granting a privileged entitlement is refused: step up', { privileged: true, entitlement: 'github:org-admin' }, StepUpRequired, 'step-up-required'],
      [
        'a request grant whose SoD exception names the beneficiary as approver is refused',
        { source: 'request', requestId: 'req-1', grantedBy: { actor: 'system:requests', amr: [] }, sodException: { reason: 'approved in req-1', approvedBy: IDENTITY } },
        SelfApprovedException,
        'self-approved-exception',
      ],
    ])('%s (403)', (_description, data, errorType, code) => {
      spec
        .given([vendorCreate])
        .when(grant(data))
        .thenThrows(errorType, (error) => expect(error).toMatchObject({ code }));
    });

    it.each<[string, Partial<GrantAccess['data']>, AccessEvent[]]>([
      ['an admin with mfa grants a privileged entitlement', { privileged: true, entitlement: 'github:org-admin', grantedBy: { actor: ADMIN, amr: ['pwd', 'mfa'] } }, [
        accessGranted({ grantId: 'cmd-2:github:org-admin', entitlement: 'github:org-admin', source: 'admin' }),
      ]],
      ['an admin without mfa grants an entitlement that is not privileged', { entitlement: 'github:member' }, [
        accessGranted({ grantId: 'cmd-2:github:member', entitlement: 'github:member', source: 'admin' }),
      ]],
      ['another admin approves the SoD exception', { sodException: { reason: 'month-end close, ticket FIN-7', approvedBy: ADMIN } }, [paymentApprove(), sodExceptionRecorded()]],
      [
        'a privileged request grant needs no mfa of the system that fulfils it (its approvers stepped up)',
        { source: 'request', requestId: 'req-1', privileged: true, grantedBy: { actor: 'system:requests', amr: [] } },
        [paymentApprove({ source: 'request', requestId: 'req-1' })],
      ],
      [
        'a break-glass grant to oneself is not a self-grant (it is reviewed afterwards)',
        { source: 'break-glass', expiresAt: IN_ONE_HOUR, entitlement: 'github:member', grantedBy: { actor: IDENTITY, amr: ['mfa'] } },
        [accessGranted({ grantId: 'cmd-2:github:member', entitlement: 'github:member', source: 'break-glass', expiresAt: IN_ONE_HOUR })],
      ],
    ])('%s', (_description, data, expected) => {
      spec.given([vendorCreate]).when(grant(data)).then(expected);
    });
  });
});
