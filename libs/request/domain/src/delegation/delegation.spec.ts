import { deciderSpec } from '@custos/platform/domain/testing';
import type { DelegationEvent } from '@custos/request/contracts';
import { DelegationNotFound, DelegationOverlaps, NotDelegationParty, ValidationFailed } from '../errors';
import { CYD, MANAGER, NOW, OWNER, at, delegationEnded, delegationGranted } from '../testing/builders';
import type { DelegationCommand, GrantDelegation } from './commands';
import { delegationDecider } from './index';

const spec = deciderSpec(delegationDecider);
const grant = (data: Partial<GrantDelegation['data']> = {}): DelegationCommand => ({
  type: 'GrantDelegation',
  data: { delegationId: 'del-1', approverId: MANAGER, delegateId: CYD, from: at(-24), until: at(24 * 7), now: at(-24), ...data },
});
const end = (endedBy = MANAGER, now = NOW): DelegationCommand => ({ type: 'EndDelegation', data: { approverId: MANAGER, delegationId: 'del-1', endedBy, now } });

/** An approver who is away hands their approvals to one delegate at a time, for a period. */
describe('delegation', () => {
  it.each<[string, DelegationEvent[], DelegationCommand, DelegationEvent[]]>([
    ['an approver delegates to a colleague for a period', [], grant(), [delegationGranted()]],
    ['granting the same delegation again is a retry', [delegationGranted()], grant(), []],
    ['a delegation for the period after another is granted', [delegationGranted()], grant({ delegationId: 'del-2', from: at(24 * 7), until: at(24 * 8), delegateId: OWNER }), [
      delegationGranted({ delegationId: 'del-2', from: at(24 * 7), until: at(24 * 8), delegateId: OWNER, grantedAt: at(-24) }),
    ]],
    ['a period overlapping an ended delegation is granted', [delegationGranted(), delegationEnded()], grant({ delegationId: 'del-2', from: NOW, now: NOW }), [
      delegationGranted({ delegationId: 'del-2', from: NOW, grantedAt: NOW }),
    ]],
    ['the approver ends it early', [delegationGranted()], end(), [delegationEnded()]],
    ['the delegate declines it', [delegationGranted()], end(CYD), [delegationEnded({ endedBy: CYD })]],
    ['ending it again records nothing', [delegationGranted(), delegationEnded()], end(), []],
    ['ending it after its until records nothing (it lapsed)', [delegationGranted()], end(MANAGER, at(24 * 8)), []],
  ])('%s', (_description, given, command, expected) => {
    spec.given(given).when(command).then(expected);
  });

  it.each<[string, Partial<GrantDelegation['data']>, string]>([
    ['to oneself', { delegateId: MANAGER }, 'delegateId'],
    ['for a period that has passed', { until: at(-25) }, 'until'],
    ['ending before it starts', { from: at(2), until: at(1) }, 'until'],
    ['without a delegate', { delegateId: ' ' }, 'delegateId'],
  ])('refuses a delegation %s (400)', (_description, data, field) => {
    spec.given([]).when(grant(data)).thenThrows(ValidationFailed, (error) => expect(error.errors.map((e) => e.field)).toContain(field));
  });

  it('refuses a period overlapping a delegation in force (409)', () => {
    spec.given([delegationGranted()]).when(grant({ delegationId: 'del-2', delegateId: OWNER, from: NOW, until: at(2), now: NOW }))
      .thenThrows(DelegationOverlaps, (error) => expect(error).toMatchObject({ code: 'delegation-overlaps', delegationIds: ['del-1'] }));
  });

  it('refuses another delegation under a taken id (400)', () => {
    spec.given([delegationGranted()]).when(grant({ delegateId: OWNER })).thenThrows(ValidationFailed);
  });

  it('ends only a delegation that exists (404), by its approver or delegate (403)', () => {
    spec.given([]).when(end()).thenThrows(DelegationNotFound);
    spec.given([delegationGranted()]).when(end(OWNER)).thenThrows(NotDelegationParty);
  });
});
