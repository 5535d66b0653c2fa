import { randomUUID } from 'node:crypto';
import type { CustosEvent } from '@custos/platform/event-store';

/**
 * Stored events as the contexts publish them, for the audit context's specs: `time` is when the
 * context recorded the event (the envelope), the times in `data` when it took effect.
 */
export function stored(context: 'identity' | 'entitlement' | 'request', name: string, subject: string, time: string, data: Record<string, unknown>, over: Partial<CustosEvent> = {}): CustosEvent {
  const id = randomUUID();
  return {
    specversion: '1.0',
    id,
    source: `/custos/${context}`,
    type: `custos.${context}.${name}.v1`,
    subject,
    time,
    datacontenttype: 'application/json',
    data,
    streamversion: 1,
    globalposition: '1',
    correlationid: id,
    causationid: id,
    actor: 'system:test',
    name,
    ...over,
  };
}

const snapshot = (identityId: string, status: string) => ({ identityId, employeeId: `E-${identityId}`, givenName: 'Ada', familyName: 'L', status, department: 'Engineering' });

export const hired = (identityId: string, effectiveAt: string, recordedAt = effectiveAt) =>
  stored('identity', 'IdentityHired', `identity-${identityId}`, recordedAt, {
    identityId, effectiveAt, recordedAt, identity: snapshot(identityId, 'active'), source: { system: 'workday', eventId: `wd-hire-${identityId}`, channel: 'webhook' },
  });

export const terminated = (identityId: string, effectiveAt: string, recordedAt: string) =>
  stored('identity', 'IdentityTerminated', `identity-${identityId}`, recordedAt, {
    identityId, effectiveAt, recordedAt, identity: snapshot(identityId, 'terminated'), source: { system: 'workday', eventId: `wd-leave-${identityId}`, channel: 'webhook' },
  });

export const rehired = (identityId: string, effectiveAt: string, recordedAt = effectiveAt) =>
  stored('identity', 'IdentityRehired', `identity-${identityId}`, recordedAt, {
    identityId, effectiveAt, recordedAt, changes: [], identity: snapshot(identityId, 'active'), source: { system: 'workday', channel: 'webhook' },
  });

export interface GrantFacts {
  grantId: string;
  entitlement: string;
  source?: 'birthright' | 'request' | 'break-glass' | 'admin';
  role?: string;
  ruleKey?: string;
  requestId?: string;
  expiresAt?: string;
  reason?: string;
}

export const granted = (identityId: string, at: string, grant: GrantFacts, over: Partial<CustosEvent> = {}) =>
  stored('entitlement', 'AccessGranted', `access-${identityId}`, at, { source: 'admin', reason: 'test', ...grant, identityId, grantedAt: at }, over);

export const revoked = (identityId: string, at: string, grantId: string, entitlement: string, reason = 'leaver') =>
  stored('entitlement', 'AccessRevoked', `access-${identityId}`, at, { identityId, grantId, entitlement, source: 'admin', reason, revokedAt: at });

export const accessTerminated = (identityId: string, at: string) => stored('entitlement', 'AccessTerminated', `access-${identityId}`, at, { identityId, at });

export const entitlementDefined = (key: string, at: string, over: Record<string, unknown> = {}) =>
  stored('entitlement', 'EntitlementDefined', `entitlement-${key}`, at, {
    key, application: key.split(':')[0], name: key, privileged: false, risk: 'low', breakGlass: false, approvalPolicy: { steps: [] }, definedAt: at, definedBy: 'admin', ...over,
  });

export const sodPolicyDefined = (key: string, at: string, left: string[], right: string[], mode = 'approve') =>
  stored('entitlement', 'SodPolicyDefined', `sod-policy-${key}`, at, { key, name: key, conflicting: [left, right], mode, severity: 'high', definedAt: at, definedBy: 'admin' });

export const sodExceptionRecorded = (identityId: string, at: string, grantId: string, entitlement: string, approvedBy: string) =>
  stored('entitlement', 'SodExceptionRecorded', `access-${identityId}`, at, {
    identityId, grantId, entitlement, conflicts: [{ policyKey: 'p', mode: 'approve', severity: 'high', left: [], right: [] }], reason: 'month end', approvedBy, recordedAt: at,
  });

export const requestEvents = (requestId: string, beneficiaryId: string, approverId: string, submittedAt: string, approvedAt: string, entitlement: string) => [
  stored('request', 'RequestSubmitted', `request-${requestId}`, submittedAt, {
    requestId, requesterId: beneficiaryId, beneficiaryId, target: { kind: 'entitlement', key: entitlement }, justification: 'quarter close', privileged: true, submittedAt,
  }),
  stored('request', 'DecisionRecorded', `request-${requestId}`, approvedAt, {
    requestId, round: 0, step: 0, approverId, decision: 'approve', comment: 'ok', amr: ['mfa'], decidedAt: approvedAt,
  }),
  stored('request', 'RequestApproved', `request-${requestId}`, approvedAt, { requestId, beneficiaryId, justification: 'quarter close', privileged: true, approvedAt }),
];

export const breakGlassEvents = (breakGlassId: string, identityId: string, entitlement: string, usedAt: string, expiresAt: string, reviewDueAt: string) => [
  stored('request', 'BreakGlassUsed', `break-glass-${breakGlassId}`, usedAt, {
    breakGlassId, identityId, entitlement, justification: 'outage', duration: 'PT1H', expiresAt, privileged: true, reviewerIds: ['sec'], reviewDueAt, usedAt,
  }),
];

export const breakGlassReviewed = (breakGlassId: string, reviewerId: string, reviewedAt: string, outcome = 'justified') =>
  stored('request', 'BreakGlassReviewed', `break-glass-${breakGlassId}`, reviewedAt, { breakGlassId, reviewerId, outcome, comment: 'fine', reviewedAt });
