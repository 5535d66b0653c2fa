import type { DelegationEvent } from '@custos/request/contracts';
import { DelegationNotFound, DelegationOverlaps, NotDelegationParty, ValidationFailed, type FieldError } from '../errors';
import { blank, instantOf } from '../shared/time';
import type { DelegationCommand, EndDelegation, GrantDelegation } from './commands';
import type { DelegationState } from './state';

/** decide: an approver delegates to someone else, for a period that has not passed, to one delegate at a time. */
export function decide(command: DelegationCommand, state: DelegationState): DelegationEvent[] {
  switch (command.type) {
    case 'GrantDelegation':
      return grant(command, state);
    case 'EndDelegation':
      return end(command, state);
    default: {
      const unexpected: never = command;
      throw new Error(`unknown command ${(unexpected as { type: string }).type}`);
    }
  }
}

function grant({ data }: GrantDelegation, state: DelegationState): DelegationEvent[] {
  const errors: FieldError[] = [];
  for (const field of ['delegationId', 'approverId', 'delegateId'] as const) if (blank(data[field])) errors.push({ field, message: 'is required' });
  if (!blank(data.delegateId) && data.delegateId === data.approverId) errors.push({ field: 'delegateId', message: 'an approver cannot delegate to themselves' });
  const now = instantOf(data.now, 'now');
  const from = Date.parse(data.from);
  const until = Date.parse(data.until);
  if (Number.isNaN(from)) errors.push({ field: 'from', message: `not an RFC 3339 time: ${String(data.from)}` });
  if (Number.isNaN(until)) errors.push({ field: 'until', message: `not an RFC 3339 time: ${String(data.until)}` });
  else if (until <= now) errors.push({ field: 'until', message: 'must lie after now' });
  else if (!Number.isNaN(from) && until <= from) errors.push({ field: 'until', message: 'must lie after from' });
  if (errors.length > 0) throw new ValidationFailed(errors);

  const existing = state.delegations.find((delegation) => delegation.delegationId === data.delegationId);
  if (existing) {
    const same = existing.delegateId === data.delegateId && Date.parse(existing.from) === from && Date.parse(existing.until) === until;
    if (same) return [];
    throw new ValidationFailed([{ field: 'delegationId', message: `${data.delegationId} names another delegation already` }]);
  }
  const overlapping = state.delegations.filter(
    (other) => other.endedAt === undefined && Date.parse(other.until) > now && Date.parse(other.from) < until && from < Date.parse(other.until),
  );
  if (overlapping.length > 0) throw new DelegationOverlaps(data.approverId, overlapping.map((other) => other.delegationId));
  return [
    {
      type: 'DelegationGranted',
      data: { delegationId: data.delegationId, approverId: data.approverId, delegateId: data.delegateId, from: data.from, until: data.until, grantedAt: data.now },
    },
  ];
}

function end({ data }: EndDelegation, state: DelegationState): DelegationEvent[] {
  const delegation = state.delegations.find((candidate) => candidate.delegationId === data.delegationId);
  if (!delegation) throw new DelegationNotFound(data.approverId, data.delegationId);
  if (data.endedBy !== delegation.approverId && data.endedBy !== delegation.delegateId) throw new NotDelegationParty(data.delegationId, data.endedBy);
  if (delegation.endedAt !== undefined || Date.parse(delegation.until) <= instantOf(data.now, 'now')) return [];
  return [
    {
      type: 'DelegationEnded',
      data: { delegationId: delegation.delegationId, approverId: delegation.approverId, delegateId: delegation.delegateId, endedBy: data.endedBy, endedAt: data.now },
    },
  ];
}
