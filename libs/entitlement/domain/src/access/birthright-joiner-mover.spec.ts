import type { AccessEvent } from '@custos/entitlement/contracts';
import type { DesiredGrant } from '../policies/birthright-policy';
import { ValidationFailed } from '../errors';
import { IDENTITY, LATER, NOW, accessGranted, accessReinstated, accessRevoked, accessTerminated, moverReviewFlagged } from '../testing/builders';
import { deciderSpec } from '@custos/platform/domain/testing';
import type { AccessCommand, ApplyBirthright } from './commands';
import { accessDecider } from './index';
import type { AccessState } from './state';

const spec = deciderSpec<AccessCommand, AccessEvent, AccessState>(accessDecider);

const member: DesiredGrant = { entitlement: 'github:member', role: 'engineer', ruleKey: 'engineering-staff' };
const awsRead: DesiredGrant = { entitlement: 'aws:read', role: 'engineer', ruleKey: 'engineering-staff' };
const crm: DesiredGrant = { entitlement: 'crm:user', role: 'sales', ruleKey: 'sales-staff' };

const apply = (data: Partial<ApplyBirthright['data']> = {}): ApplyBirthright => ({
  type: 'ApplyBirthright',
  data: { identityId: IDENTITY, desired: [member], reason: 'joiner', now: NOW, commandId: 'cmd-1', ...data },
});

/** The AccessGranted that `apply` gives for a desired grant. */
const birthrightGranted = (grant: DesiredGrant, commandId = 'cmd-1', reason = 'joiner', at = NOW) =>
  accessGranted({ grantId: `${commandId}:${grant.ruleKey}:${grant.role}:${grant.entitlement}`, ...grant, reason, grantedAt: at });

describe('access: birthright for joiners and movers', () => {
  describe('given an identity without access', () => {
    it('grants every desired birthright entitlement, each with an id derived from the command', () => {
      spec
        .given([])
        .when(apply({ desired: [member, awsRead] }))
        .then([birthrightGranted(member), birthrightGranted(awsRead)]);
    });

    it('grants identical triples once', () => {
      spec.given([]).when(apply({ desired: [member, { ...member }] })).then([birthrightGranted(member)]);
    });

    it('grants one entitlement given by two roles as two grants', () => {
      const viaDeveloper = { ...member, role: 'developer' };
      spec.given([]).when(apply({ desired: [member, viaDeveloper] })).then([birthrightGranted(member), birthrightGranted(viaDeveloper)]);
    });

    it('does nothing when nothing is desired', () => {
      spec.given([]).when(apply({ desired: [] })).then([]);
    });

    it('refuses a desired grant with a blank key', () => {
      spec
        .given([])
        .when(apply({ desired: [{ ...member, role: '' }] }))
        .thenThrows(ValidationFailed, (error) => expect(error.errors.map((e) => e.field)).toEqual(['desired[0].role']));
    });
  });

  describe('given birthright grants', () => {
    const granted = [birthrightGranted(member), birthrightGranted(awsRead)];

    it('applying the same desired set again gives nothing', () => {
      spec.given(granted).when(apply({ desired: [awsRead, member], commandId: 'cmd-2', reason: 'mover' })).then([]);
    });

    it('a retried command gives nothing', () => {
      spec.given(granted).when(apply({ desired: [member, awsRead] })).then([]);
    });

    it('a mover gains the new rule and loses the old one', () => {
      spec
        .given(granted)
        .when(apply({ desired: [crm], reason: 'mover', commandId: 'cmd-2', now: LATER }))
        .then([
          birthrightGranted(crm, 'cmd-2', 'mover', LATER),
          accessRevoked({ grantId: granted[0].data.grantId, entitlement: 'github:member', reason: 'mover', revokedAt: LATER }),
          accessRevoked({ grantId: granted[1].data.grantId, entitlement: 'aws:read', reason: 'mover', revokedAt: LATER }),
        ]);
    });

    it.each([
      ['role-changed', 'role-changed'],
      ['rule-changed', 'rule-changed'],
      ['joiner', 'mover'],
    ] as const)('revokes grants no longer desired after %s with reason %s', (reason, revokeReason) => {
      spec
        .given(granted)
        .when(apply({ desired: [member], reason, commandId: 'cmd-2' }))
        .then([accessRevoked({ grantId: granted[1].data.grantId, entitlement: 'aws:read', reason: revokeReason })]);
    });
  });

  describe('given an entitlement held through two sources', () => {
    const viaPlatform: DesiredGrant = { entitlement: 'github:member', role: 'platform', ruleKey: 'platform-staff' };
    const twoRules = [birthrightGranted(member), birthrightGranted(viaPlatform)];

    it('losing one rule revokes only that rule grant: the entitlement survives', () => {
      spec
        .given(twoRules)
        .when(apply({ desired: [viaPlatform], reason: 'mover', commandId: 'cmd-2' }))
        .then([accessRevoked({ grantId: twoRules[0].data.grantId, reason: 'mover' })]);
    });

    it('losing the birthright keeps the requested grant of the same entitlement, flagged for review', () => {
      const requested = accessGranted({ grantId: 'cmd-r:github:member', source: 'request', requestId: 'req-1' });
      spec
        .given([birthrightGranted(member), requested])
        .when(apply({ desired: [], reason: 'mover', commandId: 'cmd-2' }))
        .then([
          accessRevoked({ grantId: birthrightGranted(member).data.grantId, reason: 'mover' }),
          moverReviewFlagged({ grantIds: ['cmd-r:github:member'], moveId: 'cmd-2' }),
        ]);
    });
  });

  describe('given requested, break-glass and admin grants', () => {
    const kept = [
      birthrightGranted(member),
      accessGranted({ grantId: 'cmd-r:jira:admin', entitlement: 'jira:admin', source: 'request', requestId: 'req-1' }),
      accessGranted({ grantId: 'cmd-b:aws:admin', entitlement: 'aws:admin', source: 'break-glass', expiresAt: LATER }),
      accessGranted({ grantId: 'cmd-a:vpn:user', entitlement: 'vpn:user', source: 'admin' }),
    ];

    it('a mover keeps them and flags them for review', () => {
      spec
        .given(kept)
        .when(apply({ desired: [crm], reason: 'mover', commandId: 'cmd-2' }))
        .then([
          birthrightGranted(crm, 'cmd-2', 'mover'),
          accessRevoked({ grantId: kept[0].data.grantId, reason: 'mover' }),
          moverReviewFlagged({ grantIds: ['cmd-r:jira:admin', 'cmd-b:aws:admin', 'cmd-a:vpn:user'], moveId: 'cmd-2' }),
        ]);
    });

    it('a move without birthright changes still flags them', () => {
      spec
        .given(kept)
        .when(apply({ desired: [member], reason: 'mover', commandId: 'cmd-2' }))
        .then([moverReviewFlagged({ grantIds: ['cmd-r:jira:admin', 'cmd-b:aws:admin', 'cmd-a:vpn:user'], moveId: 'cmd-2' })]);
    });

    it('a retried move flags nothing twice', () => {
      spec
        .given([...kept, moverReviewFlagged({ grantIds: ['cmd-r:jira:admin', 'cmd-b:aws:admin', 'cmd-a:vpn:user'], moveId: 'cmd-2' })])
        .when(apply({ desired: [member], reason: 'mover', commandId: 'cmd-2' }))
        .then([]);
    });

    it('does not flag grants that have already reached their end', () => {
      spec
        .given(kept)
        .when(apply({ desired: [member], reason: 'mover', commandId: 'cmd-2', now: LATER }))
        .then([moverReviewFlagged({ grantIds: ['cmd-r:jira:admin', 'cmd-a:vpn:user'], moveId: 'cmd-2', flaggedAt: LATER })]);
    });

    it('a rule change does not flag them', () => {
      spec.given(kept).when(apply({ desired: [member], reason: 'rule-changed', commandId: 'cmd-2' })).then([]);
    });
  });

  describe('given only birthright grants', () => {
    it('a mover flags nothing', () => {
      spec.given([birthrightGranted(member)]).when(apply({ desired: [member], reason: 'mover', commandId: 'cmd-2' })).then([]);
    });
  });

  describe('given a birthright grant that was revoked since', () => {
    it('a late redelivery of the command that granted it does not issue the same grant id again', () => {
      spec
        .given([birthrightGranted(member), accessRevoked({ grantId: birthrightGranted(member).data.grantId, reason: 'rule-changed' })])
        .when(apply({ desired: [member] }))
        .then([]);
    });
  });

  describe('given a terminated identity', () => {
    it('applies nothing', () => {
      spec.given([birthrightGranted(member), accessTerminated(), accessRevoked({ grantId: birthrightGranted(member).data.grantId, reason: 'leaver' })]).when(apply({ commandId: 'cmd-2' })).then([]);
    });
  });

  describe('given a rehired identity', () => {
    it('grants birthright access again, with new grant ids', () => {
      const history = [birthrightGranted(member), accessTerminated(), accessRevoked({ grantId: birthrightGranted(member).data.grantId, reason: 'leaver' }), accessReinstated({ at: LATER })];
      spec.given(history).when(apply({ reason: 'rehire', commandId: 'cmd-3', now: LATER })).then([birthrightGranted(member, 'cmd-3', 'rehire', LATER)]);
    });
  });
});
