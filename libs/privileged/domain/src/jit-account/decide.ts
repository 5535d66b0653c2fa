import type { JitAccountEvent } from '@custos/privileged/contracts';
import { CredentialGone, CredentialNotReady, JitAccountNotFound, NotJitBeneficiary, ValidationFailed, type FieldError } from '../errors';
import { blank, instantOf } from '../shared/time';
import type { DeliverJitCredential, EndJitAccount, ExtendJitAccount, JitAccountCommand, RecordJitAccountCreated, RecordJitAccountDropped, RequestJitAccount } from './commands';
import type { JitAccountState } from './state';

/** A just-in-time login role's name: `custos_` and 12 lowercase hex digits (see jitUsername in the application). */
const USERNAME = /^custos_[0-9a-f]{12}$/;

/** decide: an account lives exactly as long as its grant, and its credential is shown to the beneficiary once. */
export function decide(command: JitAccountCommand, state: JitAccountState): JitAccountEvent[] {
  switch (command.type) {
    case 'RequestJitAccount':
      return request(command, state);
    case 'RecordJitAccountCreated':
      return created(command, state);
    case 'ExtendJitAccount':
      return extend(command, state);
    case 'DeliverJitCredential':
      return deliver(command, state);
    case 'EndJitAccount':
      return end(command, state);
    case 'RecordJitAccountDropped':
      return dropped(command, state);
    default: {
      const unexpected: never = command;
      throw new Error(`unknown command ${(unexpected as { type: string }).type}`);
    }
  }
}

/** request: one account per grant; a repeat (a redelivered AccessGranted) does nothing. */
function request({ data }: RequestJitAccount, state: JitAccountState): JitAccountEvent[] {
  if (state.kind !== 'NoJitAccount') return [];
  const errors: FieldError[] = [];
  for (const field of ['grantId', 'identityId', 'entitlement', 'target', 'targetRole'] as const) if (blank(data[field])) errors.push({ field, message: 'is required' });
  if (!USERNAME.test(data.username)) errors.push({ field: 'username', message: 'must be custos_ and 12 hex digits' });
  if (data.expiresAt !== undefined) instantOf(data.expiresAt, 'expiresAt');
  if (errors.length > 0) throw new ValidationFailed(errors);
  return [
    {
      type: 'JitAccountRequested',
      data: {
        grantId: data.grantId,
        identityId: data.identityId,
        entitlement: data.entitlement,
        target: data.target,
        targetRole: data.targetRole,
        username: data.username,
        ...(data.requestId !== undefined && { requestId: data.requestId }),
        ...(data.expiresAt !== undefined && { expiresAt: data.expiresAt }),
        requestedAt: data.now,
      },
    },
  ];
}

/** created: recorded once, and only while the grant lasts (a grant that ended first leaves the role to be dropped). */
function created({ data }: RecordJitAccountCreated, state: JitAccountState): JitAccountEvent[] {
  if (state.kind === 'NoJitAccount') throw new JitAccountNotFound(data.grantId);
  if (state.kind !== 'RequestedJitAccount') return [];
  return [{ type: 'JitAccountCreated', data: { grantId: data.grantId, target: state.account.target, username: state.account.username, createdAt: data.now } }];
}

/** extend: an account that lives follows its grant's new end, once per end; an ended one stays ended. */
function extend({ data }: ExtendJitAccount, state: JitAccountState): JitAccountEvent[] {
  if (state.kind !== 'RequestedJitAccount' && state.kind !== 'ActiveJitAccount') return [];
  instantOf(data.expiresAt, 'expiresAt');
  if (state.account.expiresAt === data.expiresAt) return [];
  return [{ type: 'JitAccountExtended', data: { grantId: data.grantId, expiresAt: data.expiresAt, extendedAt: data.now } }];
}

/** deliver: to the beneficiary only, once the role exists, once, and not after the grant ended. */
function deliver({ data }: DeliverJitCredential, state: JitAccountState): JitAccountEvent[] {
  if (state.kind === 'NoJitAccount') throw new JitAccountNotFound(data.grantId);
  if (state.account.identityId !== data.identityId) throw new NotJitBeneficiary(data.grantId, data.identityId);
  if (state.kind === 'EndingJitAccount' || state.kind === 'DroppedJitAccount') throw new CredentialGone(data.grantId, 'ended');
  if (state.kind === 'RequestedJitAccount') throw new CredentialNotReady(data.grantId);
  if (state.delivered) throw new CredentialGone(data.grantId, 'delivered');
  return [{ type: 'JitCredentialDelivered', data: { grantId: data.grantId, identityId: data.identityId, deliveredAt: data.now } }];
}

/** end: the grant's end ends the account once, whether or not the role was made yet. */
function end({ data }: EndJitAccount, state: JitAccountState): JitAccountEvent[] {
  if (state.kind === 'NoJitAccount' || state.kind === 'EndingJitAccount' || state.kind === 'DroppedJitAccount') return [];
  return [{ type: 'JitAccountEnding', data: { grantId: data.grantId, target: state.account.target, username: state.account.username, reason: data.reason, endingAt: data.now } }];
}

/** dropped: recorded once, after the end. */
function dropped({ data }: RecordJitAccountDropped, state: JitAccountState): JitAccountEvent[] {
  if (state.kind !== 'EndingJitAccount') return [];
  return [
    {
      type: 'JitAccountDropped',
      data: { grantId: data.grantId, target: state.account.target, username: state.account.username, sessionsTerminated: data.sessionsTerminated, droppedAt: data.now },
    },
  ];
}
