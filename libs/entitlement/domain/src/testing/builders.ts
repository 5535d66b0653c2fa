import type {
  AccessExtended,
  AccessGranted,
  AccessReinstated,
  AccessRevoked,
  AccessTerminated,
  BirthrightRuleDefined,
  EntitlementDefined,
  MoverReviewFlagged,
  RoleDefined,
  SodExceptionRecorded,
  SodPolicyDefined,
} from '@custos/entitlement/contracts';
import type { GrantAccess } from '../access/commands';

/** The fixed `now` of every spec. */
export const NOW = '2026-03-02T09:00:00.000Z';
export const LATER = '2026-03-09T09:00:00.000Z';
export const ADMIN = 'admin-1';
export const IDENTITY = 'id-ada';

export function entitlementDefined(data: Partial<EntitlementDefined['data']> = {}): EntitlementDefined {
  return {
    type: 'EntitlementDefined',
    data: {
      key: 'github:org-admin',
      application: 'github',
      name: 'GitHub organisation admin',
      privileged: false,
      risk: 'medium',
      breakGlass: false,
      approvalPolicy: {
        steps: [
          { kind: 'manager', required: 1 },
          { kind: 'owner', required: 1 },
        ],
      },
      definedAt: NOW,
      definedBy: ADMIN,
      ...data,
    },
  };
}

export function roleDefined(data: Partial<RoleDefined['data']> = {}): RoleDefined {
  return {
    type: 'RoleDefined',
    data: { key: 'engineer', name: 'Engineer', entitlements: ['github:member'], roles: [], definedAt: NOW, definedBy: ADMIN, ...data },
  };
}

export function birthrightRuleDefined(data: Partial<BirthrightRuleDefined['data']> = {}): BirthrightRuleDefined {
  return {
    type: 'BirthrightRuleDefined',
    data: {
      key: 'engineering-staff',
      name: 'Engineering staff',
      when: { department: 'Engineering' },
      roles: ['engineer'],
      definedAt: NOW,
      definedBy: ADMIN,
      ...data,
    },
  };
}

export function sodPolicyDefined(data: Partial<SodPolicyDefined['data']> = {}): SodPolicyDefined {
  return {
    type: 'SodPolicyDefined',
    data: {
      key: 'pay-vs-approve',
      name: 'Create vendors vs approve payments',
      conflicting: [['erp:vendor-create'], ['erp:payment-approve']],
      mode: 'prevent',
      severity: 'high',
      definedAt: NOW,
      definedBy: ADMIN,
      ...data,
    },
  };
}

/** A birthright grant of `github:member` through role `engineer` and rule `engineering-staff`, unless told otherwise. */
export function accessGranted(data: Partial<AccessGranted['data']> = {}): AccessGranted {
  const source = data.source ?? 'birthright';
  const entitlement = data.entitlement ?? 'github:member';
  const birthright = source === 'birthright' ? { role: 'engineer', ruleKey: 'engineering-staff' } : {};
  return {
    type: 'AccessGranted',
    data: {
      grantId: `cmd-0:${entitlement}`,
      identityId: IDENTITY,
      entitlement,
      source,
      ...birthright,
      grantedAt: NOW,
      reason: source === 'birthright' ? 'joiner' : 'needed for work',
      ...data,
    },
  };
}

export function accessRevoked(data: Partial<AccessRevoked['data']> = {}): AccessRevoked {
  return {
    type: 'AccessRevoked',
    data: {
      grantId: 'cmd-0:github:member',
      identityId: IDENTITY,
      entitlement: 'github:member',
      source: 'birthright',
      reason: 'mover',
      revokedAt: NOW,
      ...data,
    },
  };
}

/** The request grant `req-1:db:read` extended by round 1 from NOW + 1h to NOW + 3h. */
export function accessExtended(data: Partial<AccessExtended['data']> = {}): AccessExtended {
  return {
    type: 'AccessExtended',
    data: {
      grantId: 'request:req-1:db:read',
      identityId: IDENTITY,
      entitlement: 'db:read',
      requestId: 'req-1',
      round: 1,
      previousExpiresAt: '2026-03-02T10:00:00.000Z',
      expiresAt: '2026-03-02T12:00:00.000Z',
      reason: 'the migration runs late',
      extendedBy: 'id-olga',
      extendedAt: NOW,
      ...data,
    },
  };
}

export function accessTerminated(data: Partial<AccessTerminated['data']> = {}): AccessTerminated {
  return { type: 'AccessTerminated', data: { identityId: IDENTITY, at: NOW, ...data } };
}

export function accessReinstated(data: Partial<AccessReinstated['data']> = {}): AccessReinstated {
  return { type: 'AccessReinstated', data: { identityId: IDENTITY, at: NOW, ...data } };
}

export function moverReviewFlagged(data: Partial<MoverReviewFlagged['data']> = {}): MoverReviewFlagged {
  return { type: 'MoverReviewFlagged', data: { identityId: IDENTITY, grantIds: [], moveId: 'cmd-move', flaggedAt: NOW, ...data } };
}

/** An approved exception for an admin grant of `erp:payment-approve` against the approve policy `pay-vs-approve`. */
export function sodExceptionRecorded(data: Partial<SodExceptionRecorded['data']> = {}): SodExceptionRecorded {
  return {
    type: 'SodExceptionRecorded',
    data: {
      identityId: IDENTITY,
      grantId: 'cmd-2:erp:payment-approve',
      entitlement: 'erp:payment-approve',
      conflicts: [{ policyKey: 'pay-vs-approve', mode: 'approve', severity: 'high', left: ['erp:vendor-create'], right: ['erp:payment-approve'] }],
      reason: 'month-end close, ticket FIN-7',
      approvedBy: ADMIN,
      recordedAt: NOW,
      ...data,
    },
  };
}

/** An admin's GrantAccess of `erp:payment-approve` to IDENTITY, without MFA and without SoD policies unless given. */
export function grantAccess(data: Partial<GrantAccess['data']> = {}): GrantAccess {
  return {
    type: 'GrantAccess',
    data: {
      identityId: IDENTITY,
      entitlement: 'erp:payment-approve',
      source: 'admin',
      reason: 'needed for work',
      now: NOW,
      privileged: false,
      grantedBy: { actor: ADMIN, amr: ['pwd'] },
      sodPolicies: [],
      commandId: 'cmd-2',
      ...data,
    },
  };
}

/** The AccessGranted that grantAccess() gives when it is granted. */
export const paymentApproveGranted = (data: Partial<AccessGranted['data']> = {}): AccessGranted =>
  accessGranted({ grantId: 'cmd-2:erp:payment-approve', entitlement: 'erp:payment-approve', source: 'admin', ...data });
