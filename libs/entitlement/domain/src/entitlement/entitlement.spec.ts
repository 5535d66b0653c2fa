import type { EntitlementEvent } from '@custos/entitlement/contracts';
import { AlreadyDefined, NotDefined, Retired, ValidationFailed } from '../errors';
import { ADMIN, LATER, NOW, entitlementDefined } from '../testing/builders';
import { deciderSpec } from '@custos/platform/domain/testing';
import type { ChangeEntitlement, DefineEntitlement, EntitlementCommand, RetireEntitlement } from './commands';
import { entitlementDecider } from './index';
import type { EntitlementState } from './state';

const spec = deciderSpec<EntitlementCommand, EntitlementEvent, EntitlementState>(entitlementDecider);

const define = (data: Partial<DefineEntitlement['data']> = {}): DefineEntitlement => ({
  type: 'DefineEntitlement',
  data: { key: 'github:org-admin', application: 'github', name: 'GitHub organisation admin', privileged: false, risk: 'medium', now: NOW, actor: ADMIN, ...data },
});
const change = (data: Partial<ChangeEntitlement['data']> = {}): ChangeEntitlement => ({
  type: 'ChangeEntitlement',
  data: { key: 'github:org-admin', now: LATER, actor: ADMIN, ...data },
});
const retire = (data: Partial<RetireEntitlement['data']> = {}): RetireEntitlement => ({
  type: 'RetireEntitlement',
  data: { key: 'github:org-admin', now: LATER, actor: ADMIN, ...data },
});

const managerOwnerSecurity = {
  steps: [
    { kind: 'manager' as const, required: 1 },
    { kind: 'owner' as const, required: 1 },
    { kind: 'security' as const, required: 1 },
  ],
};

describe('entitlement', () => {
  describe('given no entitlement', () => {
    it('defines it with the default approval policy: manager, then owner', () => {
      spec.given([]).when(define()).then([entitlementDefined()]);
    });

    it('adds a security step to the default policy of a privileged entitlement', () => {
      spec
        .given([])
        .when(define({ privileged: true, risk: 'critical', ownerId: 'id-owner', maxDuration: 'PT8H', breakGlass: true, description: 'Full control' }))
        .then([
          entitlementDefined({
            privileged: true,
            risk: 'critical',
            ownerId: 'id-owner',
            maxDuration: 'PT8H',
            breakGlass: true,
            description: 'Full control',
            approvalPolicy: managerOwnerSecurity,
          }),
        ]);
    });

    it('keeps a custom approval policy', () => {
      const approvalPolicy = { steps: [{ kind: 'group' as const, approverIds: ['id-1', 'id-2'], required: 2 }] };
      spec.given([]).when(define({ approvalPolicy })).then([entitlementDefined({ approvalPolicy })]);
    });

    it('refuses a custom policy without a security step for a privileged entitlement', () => {
      spec
        .given([])
        .when(define({ privileged: true, approvalPolicy: { steps: [{ kind: 'manager', required: 1 }] } }))
        .thenThrows(ValidationFailed, (error) => expect(error.errors).toEqual([{ field: 'approvalPolicy.steps', message: 'a privileged entitlement needs a security step' }]));
    });

    it('refuses a group step that requires more approvals than it names approvers', () => {
      spec
        .given([])
        .when(define({ approvalPolicy: { steps: [{ kind: 'group', approverIds: ['id-1'], required: 2 }] } }))
        .thenThrows(ValidationFailed, (error) => expect(error.errors.map((e) => e.field)).toEqual(['approvalPolicy.steps[0].required']));
    });

    it('refuses a maxDuration that is not an ISO 8601 duration, and a blank name', () => {
      spec
        .given([])
        .when(define({ maxDuration: '8 hours', name: ' ' }))
        .thenThrows(ValidationFailed, (error) => expect(error.errors.map((e) => e.field)).toEqual(['name', 'maxDuration']));
    });

    it.each(['P300000Y', 'PT99999999999999999999H', 'P10Y1D', 'PT87700H'])('refuses a maxDuration longer than ten years (%s), naming maxDuration', (maxDuration) => {
      spec
        .given([])
        .when(define({ maxDuration }))
        .thenThrows(ValidationFailed, (error) => expect(error.errors).toEqual([{ field: 'maxDuration', message: expect.stringContaining('P10Y') }]));
    });

    it('accepts a maxDuration of exactly ten years', () => {
      spec.given([]).when(define({ maxDuration: 'P10Y' })).then([entitlementDefined({ maxDuration: 'P10Y' })]);
    });

    it('links it to a target and the role on it that grants\' accounts join', () => {
      spec.given([]).when(define({ target: 'pg-prod', targetRole: 'readonly' })).then([entitlementDefined({ target: 'pg-prod', targetRole: 'readonly' })]);
    });

    it.each([
      ['a targetRole without a target', { targetRole: 'readonly' }, ['target']],
      ['a target without a targetRole', { target: 'pg-prod' }, ['targetRole']],
      ['a targetRole that is no lowercase role name', { target: 'pg-prod', targetRole: 'Read Only"; DROP' }, ['targetRole']],
    ])('refuses %s', (_case, data, fields) => {
      spec
        .given([])
        .when(define(data))
        .thenThrows(ValidationFailed, (error) => expect(error.errors.map((e) => e.field)).toEqual(fields));
    });

    it('cannot change what is not defined', () => {
      spec.given([]).when(change({ name: 'x' })).thenThrows(NotDefined, (error) => expect(error).toMatchObject({ kind: 'entitlement', key: 'github:org-admin', code: 'not-defined' }));
    });

    it('cannot retire what is not defined', () => {
      spec.given([]).when(retire()).thenThrows(NotDefined);
    });
  });

  describe('given a defined entitlement', () => {
    it('refuses to define the key again', () => {
      spec.given([entitlementDefined()]).when(define()).thenThrows(AlreadyDefined, (error) => expect(error).toMatchObject({ code: 'already-defined' }));
    });

    it('records only the fields that change', () => {
      spec
        .given([entitlementDefined({ ownerId: 'id-old' })])
        .when(change({ name: 'GitHub org admin', risk: 'high', ownerId: null, maxDuration: 'PT4H' }))
        .then([
          {
            type: 'EntitlementChanged',
            data: { key: 'github:org-admin', changes: { name: 'GitHub org admin', risk: 'high', ownerId: null, maxDuration: 'PT4H' }, changedAt: LATER, changedBy: ADMIN },
          },
        ]);
    });

    it('sets its approval SLA, and clears it back to the default', () => {
      spec
        .given([entitlementDefined()])
        .when(change({ approvalSla: 'PT4H' }))
        .then([{ type: 'EntitlementChanged', data: { key: 'github:org-admin', changes: { approvalSla: 'PT4H' }, changedAt: LATER, changedBy: ADMIN } }]);
      spec
        .given([entitlementDefined({ approvalSla: 'PT4H' })])
        .when(change({ approvalSla: null }))
        .then([{ type: 'EntitlementChanged', data: { key: 'github:org-admin', changes: { approvalSla: null }, changedAt: LATER, changedBy: ADMIN } }]);
    });

    it.each(['four hours', 'PT0S', 'P300000Y'])('refuses an approval SLA that is no positive duration of at most ten years (%s), naming approvalSla', (approvalSla) => {
      spec.given([]).when(define({ approvalSla })).thenThrows(ValidationFailed, (error) => expect(error.errors.map((e) => e.field)).toEqual(['approvalSla']));
      spec.given([entitlementDefined()]).when(change({ approvalSla })).thenThrows(ValidationFailed, (error) => expect(error.errors.map((e) => e.field)).toEqual(['approvalSla']));
    });

    it('refuses a change to a maxDuration longer than ten years, naming maxDuration', () => {
      spec
        .given([entitlementDefined()])
        .when(change({ maxDuration: 'P300000Y' }))
        .thenThrows(ValidationFailed, (error) => expect(error.errors.map((e) => e.field)).toEqual(['maxDuration']));
    });

    it('changes other fields of an entitlement whose stored maxDuration predates the bound', () => {
      spec
        .given([entitlementDefined({ maxDuration: 'P300000Y' })])
        .when(change({ name: 'Renamed' }))
        .then([{ type: 'EntitlementChanged', data: { key: 'github:org-admin', changes: { name: 'Renamed' }, changedAt: LATER, changedBy: ADMIN } }]);
    });

    it('unlinks a target: both cleared together', () => {
      spec
        .given([entitlementDefined({ target: 'pg-prod', targetRole: 'readonly' })])
        .when(change({ target: null, targetRole: null }))
        .then([{ type: 'EntitlementChanged', data: { key: 'github:org-admin', changes: { target: null, targetRole: null }, changedAt: LATER, changedBy: ADMIN } }]);
    });

    it('refuses to clear the target and keep its role', () => {
      spec
        .given([entitlementDefined({ target: 'pg-prod', targetRole: 'readonly' })])
        .when(change({ target: null }))
        .thenThrows(ValidationFailed, (error) => expect(error.errors.map((e) => e.field)).toEqual(['target']));
    });

    it('records nothing when nothing changes', () => {
      spec.given([entitlementDefined()]).when(change({ name: 'GitHub organisation admin', risk: 'medium' })).then([]);
    });

    it('moves a default approval policy to the privileged default when it becomes privileged', () => {
      spec
        .given([entitlementDefined()])
        .when(change({ privileged: true }))
        .then([
          {
            type: 'EntitlementChanged',
            data: { key: 'github:org-admin', changes: { privileged: true, approvalPolicy: managerOwnerSecurity }, changedAt: LATER, changedBy: ADMIN },
          },
        ]);
    });

    it('restores the default approval policy when asked with null', () => {
      const custom = { steps: [{ kind: 'owner' as const, required: 1 }] };
      spec
        .given([entitlementDefined({ approvalPolicy: custom })])
        .when(change({ approvalPolicy: null }))
        .then([
          {
            type: 'EntitlementChanged',
            data: {
              key: 'github:org-admin',
              changes: { approvalPolicy: { steps: [{ kind: 'manager', required: 1 }, { kind: 'owner', required: 1 }] } },
              changedAt: LATER,
              changedBy: ADMIN,
            },
          },
        ]);
    });

    it('folds a change so that repeating it records nothing', () => {
      spec
        .given([
          entitlementDefined(),
          { type: 'EntitlementChanged', data: { key: 'github:org-admin', changes: { risk: 'high', ownerId: 'id-owner' }, changedAt: LATER, changedBy: ADMIN } },
        ])
        .when(change({ risk: 'high', ownerId: 'id-owner' }))
        .then([]);
    });

    it('retires it', () => {
      spec
        .given([entitlementDefined()])
        .when(retire({ reason: 'application decommissioned' }))
        .then([{ type: 'EntitlementRetired', data: { key: 'github:org-admin', retiredAt: LATER, retiredBy: ADMIN, reason: 'application decommissioned' } }]);
    });
  });

  describe('given a retired entitlement', () => {
    const history = [entitlementDefined(), { type: 'EntitlementRetired' as const, data: { key: 'github:org-admin', retiredAt: LATER, retiredBy: ADMIN } }];

    it('retiring again records nothing', () => {
      spec.given(history).when(retire()).then([]);
    });

    it('refuses changes', () => {
      spec.given(history).when(change({ name: 'x' })).thenThrows(Retired);
    });

    it('never gives the key out again', () => {
      spec.given(history).when(define()).thenThrows(AlreadyDefined);
    });
  });
});
