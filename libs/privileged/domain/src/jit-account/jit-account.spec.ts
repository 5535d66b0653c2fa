import type { JitAccountEvent } from '@custos/privileged/contracts';
import { deciderSpec } from '@custos/platform/domain/testing';
import { CredentialGone, CredentialNotReady, JitAccountNotFound, NotJitBeneficiary, ValidationFailed } from '../errors';
import { ADA, IN_1_HOUR, IN_30_MIN, NOW, jitAccountRequested } from '../testing/builders';
import type { JitAccountCommand, RequestJitAccount } from './commands';
import { jitAccountDecider } from './index';
import type { JitAccountState } from './state';

const spec = deciderSpec<JitAccountCommand, JitAccountEvent, JitAccountState>(jitAccountDecider);
const request = (data: Partial<RequestJitAccount['data']> = {}): RequestJitAccount => ({
  type: 'RequestJitAccount',
  data: { grantId: 'grant-1', identityId: ADA, entitlement: 'pg-prod:readonly', target: 'pg-prod', targetRole: 'readonly', username: 'custos_0123456789ab', expiresAt: IN_1_HOUR, now: NOW, ...data },
});
const created: JitAccountEvent = { type: 'JitAccountCreated', data: { grantId: 'grant-1', target: 'pg-prod', username: 'custos_0123456789ab', createdAt: NOW } };
const delivered: JitAccountEvent = { type: 'JitCredentialDelivered', data: { grantId: 'grant-1', identityId: ADA, deliveredAt: IN_30_MIN } };
const ending = (reason = 'request-revoked'): JitAccountEvent => ({
  type: 'JitAccountEnding',
  data: { grantId: 'grant-1', target: 'pg-prod', username: 'custos_0123456789ab', reason, endingAt: IN_30_MIN },
});
const deliver = (identityId = ADA): JitAccountCommand => ({ type: 'DeliverJitCredential', data: { grantId: 'grant-1', identityId, now: IN_30_MIN } });
const end = (reason = 'request-revoked'): JitAccountCommand => ({ type: 'EndJitAccount', data: { grantId: 'grant-1', reason, now: IN_30_MIN } });

describe('just-in-time account', () => {
  describe('given no account', () => {
    it('is requested when a grant of a target-linked entitlement starts', () => {
      spec.given([]).when(request()).then([jitAccountRequested()]);
    });

    it('refuses a username that is not custos_ and 12 hex digits', () => {
      spec
        .given([])
        .when(request({ username: 'postgres' }))
        .thenThrows(ValidationFailed, (error) => expect(error.errors.map((e) => e.field)).toEqual(['username']));
    });

    it('has no credential to deliver', () => {
      spec.given([]).when(deliver()).thenThrows(JitAccountNotFound);
    });

    it('ignores the end of a grant it never made an account for', () => {
      spec.given([]).when(end()).then([]);
    });
  });

  describe('given a requested account', () => {
    it('ignores the grant\'s start delivered again', () => {
      spec.given([jitAccountRequested()]).when(request()).then([]);
    });

    it('records the role made on the target', () => {
      spec.given([jitAccountRequested()]).when({ type: 'RecordJitAccountCreated', data: { grantId: 'grant-1', now: NOW } }).then([created]);
    });

    it('has no credential ready yet', () => {
      spec.given([jitAccountRequested()]).when(deliver()).thenThrows(CredentialNotReady);
    });

    it('ends with its grant even before the role was made', () => {
      spec.given([jitAccountRequested()]).when(end('expired')).then([ending('expired')]);
    });
  });

  describe('given an active account', () => {
    it('delivers the credential to the beneficiary', () => {
      spec.given([jitAccountRequested(), created]).when(deliver()).then([delivered]);
    });

    it('delivers it to nobody else', () => {
      spec.given([jitAccountRequested(), created]).when(deliver('id-mallory')).thenThrows(NotJitBeneficiary);
    });

    it('delivers it once', () => {
      spec.given([jitAccountRequested(), created, delivered]).when(deliver()).thenThrows(CredentialGone, (error) => expect(error.why).toBe('delivered'));
    });

    it('follows its grant\'s extension once', () => {
      const extend: JitAccountCommand = { type: 'ExtendJitAccount', data: { grantId: 'grant-1', expiresAt: '2026-03-02T12:00:00.000Z', now: IN_30_MIN } };
      const extended: JitAccountEvent = { type: 'JitAccountExtended', data: { grantId: 'grant-1', expiresAt: '2026-03-02T12:00:00.000Z', extendedAt: IN_30_MIN } };
      spec.given([jitAccountRequested(), created]).when(extend).then([extended]);
      spec.given([jitAccountRequested(), created, extended]).when(extend).then([]);
      spec.given([jitAccountRequested(), created, ending()]).when(extend).then([]);
    });

    it('ends once when its grant ends (a leaver\'s grants end with reason leaver)', () => {
      spec.given([jitAccountRequested(), created, delivered]).when(end('leaver')).then([ending('leaver')]);
      spec.given([jitAccountRequested(), created, ending()]).when(end('leaver')).then([]);
    });
  });

  describe('given an ending account', () => {
    it('delivers nothing', () => {
      spec.given([jitAccountRequested(), created, ending()]).when(deliver()).thenThrows(CredentialGone, (error) => expect(error.why).toBe('ended'));
    });

    it('records the role dropped once, with the sessions it ended', () => {
      const drop: JitAccountCommand = { type: 'RecordJitAccountDropped', data: { grantId: 'grant-1', sessionsTerminated: 2, now: IN_30_MIN } };
      const droppedEvent: JitAccountEvent = { type: 'JitAccountDropped', data: { grantId: 'grant-1', target: 'pg-prod', username: 'custos_0123456789ab', sessionsTerminated: 2, droppedAt: IN_30_MIN } };
      spec.given([jitAccountRequested(), created, ending()]).when(drop).then([droppedEvent]);
      spec.given([jitAccountRequested(), created, ending(), droppedEvent]).when(drop).then([]);
    });

    it('does not record a creation that lost the race with the end', () => {
      spec.given([jitAccountRequested(), ending()]).when({ type: 'RecordJitAccountCreated', data: { grantId: 'grant-1', now: NOW } }).then([]);
    });
  });
});
