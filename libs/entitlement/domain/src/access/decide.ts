import type { AccessEvent, AccessRevoked, Grant, RevokeReason } from '@custos/entitlement/contracts';
import { desiredGrantKey, type DesiredGrant } from '../policies/birthright-policy';
import { latestExpiryOf } from '../policies/duration';
import { grantInForce, heldEntitlements } from '../policies/access-check';
import { evaluateSod } from '../policies/sod';
import {
  DurationExceedsMaximum,
  HeldByBirthright,
  IdentityTerminated,
  NotHeld,
  SelfApprovedException,
  SelfGrant,
  SodExceptionRequired,
  StepUpRequired,
  SodViolation,
  ValidationFailed,
  type FieldError,
} from '../errors';
import { instantOf } from '../shared/time';
import type {
  AccessCommand,
  ApplyBirthright,
  BirthrightReason,
  ExpireGrant,
  ExtendGrant,
  GrantAccess,
  ReinstateAccess,
  RevokeAccess,
  RevokeAllAccess,
} from './commands';
import { birthrightGrantId, directGrantId } from './grant-id';
import { fulfilledRequestKey, type AccessState } from './state';

/** decide: an identity's grants change only through these commands, and a repeated command changes nothing. */
export function decide(command: AccessCommand, state: AccessState): AccessEvent[] {
  switch (command.type) {
    case 'ApplyBirthright':
      return applyBirthright(command, state);
    case 'GrantAccess':
      return grantAccess(command, state);
    case 'RevokeAccess':
      return revokeAccess(command, state);
    case 'RevokeAllAccess':
      return revokeAllAccess(command, state);
    case 'ExpireGrant':
      return expireGrant(command, state);
    case 'ExtendGrant':
      return extendGrant(command, state);
    case 'ReinstateAccess':
      return reinstateAccess(command, state);
    default: {
      const unexpected: never = command;
      throw new Error(`unknown command ${(unexpected as { type: string }).type}`);
    }
  }
}

const BIRTHRIGHT_REVOKE_REASON: Record<BirthrightReason, RevokeReason> = {
  // A joiner or rehire that finds birthright grants no longer desired is a change of attributes: a move.
  joiner: 'mover',
  rehire: 'mover',
  mover: 'mover',
  'role-changed': 'role-changed',
  'rule-changed': 'rule-changed',
};

/**
 * applyBirthright: the birthright grants become exactly the desired (rule, role, entitlement)
 * triples: missing ones are granted, undesired ones revoked, each source on its own (so an
 * entitlement also given by another rule, role or request survives). A move keeps requested,
 * break-glass and admin grants but flags them for review. Nothing happens to a terminated identity.
 */
function applyBirthright({ data }: ApplyBirthright, state: AccessState): AccessEvent[] {
  if (state.kind === 'TerminatedAccess') return [];
  const errors = data.desired.flatMap((grant, index) =>
    (['entitlement', 'role', 'ruleKey'] as const)
      .filter((field) => typeof grant[field] !== 'string' || grant[field].trim() === '')
      .map((field) => ({ field: `desired[${index}].${field}`, message: 'must not be blank' })),
  );
  if (errors.length > 0) throw new ValidationFailed(errors);

  const desired = new Map<string, DesiredGrant>(data.desired.map((grant) => [desiredGrantKey(grant), grant]));
  const birthright = state.grants.filter((grant) => grant.source === 'birthright');
  const heldKeys = new Set(birthright.map((grant) => desiredGrantKey(tripleOf(grant))));

  const granted: AccessEvent[] = [...desired.entries()]
    .filter(([key]) => !heldKeys.has(key))
    .map(([, grant]) => ({ grant, grantId: birthrightGrantId(data.commandId, grant) }))
    .filter(({ grantId }) => !state.issuedGrantIds.has(grantId))
    .map(({ grant, grantId }) => ({
      type: 'AccessGranted',
      data: {
        grantId,
        identityId: data.identityId,
        entitlement: grant.entitlement,
        source: 'birthright',
        role: grant.role,
        ruleKey: grant.ruleKey,
        grantedAt: data.now,
        reason: data.reason,
      },
    }));
  const revoked = birthright
    .filter((grant) => !desired.has(desiredGrantKey(tripleOf(grant))))
    .map((grant) => revocation(data.identityId, grant, BIRTHRIGHT_REVOKE_REASON[data.reason], data.now));

  const events = [...granted, ...revoked];
  if (data.reason === 'mover' && !state.flaggedMoves.has(data.commandId)) {
    const kept = state.grants.filter((grant) => grant.source !== 'birthright' && !hasEnded(grant, data.now));
    if (kept.length > 0) {
      events.push({
        type: 'MoverReviewFlagged',
        data: { identityId: data.identityId, grantIds: kept.map((grant) => grant.grantId), moveId: data.commandId, flaggedAt: data.now },
      });
    }
  }
  return events;
}

/**
 * grantAccess: admin, request and break-glass grants go only to an identity that is not
 * terminated; a request needs its id, break-glass an end, an end lies after `now` and within the
 * entitlement's `maxDuration`. Nobody grants to themselves as an admin, an admin grants a
 * privileged entitlement only after multi-factor login, and nobody approves an SoD exception
 * for their own access. A grant that would create a `prevent` SoD conflict is refused; one
 * that would create an `approve` conflict needs an approved exception when an admin gives it (a
 * request was approved by its security step). Break-glass passes both: it is reviewed afterwards.
 * A given exception that covers created conflicts is recorded beside the grant. The same
 * command, the same request, or an admin grant already covered by a held one gives nothing.
 */
function grantAccess({ data }: GrantAccess, state: AccessState): AccessEvent[] {
  if (state.kind === 'TerminatedAccess') throw new IdentityTerminated(data.identityId);
  const errors: FieldError[] = [];
  if (typeof data.entitlement !== 'string' || data.entitlement.trim() === '') errors.push({ field: 'entitlement', message: 'must not be blank' });
  if (!['admin', 'request', 'break-glass'].includes(data.source)) {
    errors.push({ field: 'source', message: 'must be admin, request or break-glass (birthright comes from rules)' });
  }
  if (data.source === 'request' && !data.requestId) errors.push({ field: 'requestId', message: 'a request grant names its request' });
  if (data.source === 'break-glass' && data.expiresAt === undefined) errors.push({ field: 'expiresAt', message: 'break-glass access is time-bound' });
  if (data.expiresAt !== undefined && instantOf(data.expiresAt, 'expiresAt') <= instantOf(data.now, 'now')) {
    errors.push({ field: 'expiresAt', message: 'must lie after now' });
  }
  if (data.sodException !== undefined) {
    for (const field of ['reason', 'approvedBy'] as const) {
      const value = data.sodException[field];
      if (typeof value !== 'string' || value.trim() === '') errors.push({ field: `sodException.${field}`, message: 'must not be blank' });
    }
  }
  if (typeof data.grantedBy?.actor !== 'string' || data.grantedBy.actor.trim() === '') errors.push({ field: 'grantedBy.actor', message: 'must not be blank' });
  if (errors.length > 0) throw new ValidationFailed(errors);
  if (data.source === 'admin' && data.grantedBy.actor === data.identityId) throw new SelfGrant(data.identityId, data.entitlement);
  if (data.source === 'admin' && data.privileged && !data.grantedBy.amr.includes('mfa')) throw new StepUpRequired(data.entitlement);
  if (data.sodException !== undefined && data.sodException.approvedBy === data.identityId) throw new SelfApprovedException(data.identityId);

  const grantId = nextDirectGrantId(data, state);
  if (grantId === undefined) return [];
  if (data.requestId !== undefined && state.fulfilledRequests.has(fulfilledRequestKey(data.requestId, data.entitlement))) return [];
  if (data.source === 'admin' && state.grants.some((grant) => grant.source === 'admin' && grant.entitlement === data.entitlement && covers(grant, data.expiresAt, data.now))) {
    return [];
  }

  if (data.maxDuration !== undefined && data.expiresAt !== undefined) {
    const latestExpiry = latestExpiryOf(data.now, data.maxDuration);
    if (instantOf(data.expiresAt, 'expiresAt') > instantOf(latestExpiry, 'maxDuration')) {
      throw new DurationExceedsMaximum(data.entitlement, data.maxDuration, data.expiresAt, latestExpiry);
    }
  }
  const created = evaluateSod(heldEntitlements(state.grants, data.now), [data.entitlement], data.sodPolicies).violations;
  const excepted = data.source === 'break-glass' ? created : created.filter((violation) => violation.mode === 'approve');
  if (data.source !== 'break-glass') {
    const prevented = created.filter((violation) => violation.mode === 'prevent');
    if (prevented.length > 0) throw new SodViolation(prevented);
    if (data.source === 'admin' && excepted.length > 0 && data.sodException === undefined) throw new SodExceptionRequired(excepted);
  }

  const granted: AccessEvent[] = [
    {
      type: 'AccessGranted',
      data: {
        grantId,
        identityId: data.identityId,
        entitlement: data.entitlement,
        source: data.source,
        ...(data.role !== undefined && { role: data.role }),
        ...(data.requestId !== undefined && { requestId: data.requestId }),
        grantedAt: data.now,
        ...(data.expiresAt !== undefined && { expiresAt: data.expiresAt }),
        reason: data.reason,
      },
    },
  ];
  if (data.sodException !== undefined && excepted.length > 0) {
    granted.push({
      type: 'SodExceptionRecorded',
      data: {
        identityId: data.identityId,
        grantId,
        entitlement: data.entitlement,
        conflicts: excepted,
        reason: data.sodException.reason,
        approvedBy: data.sodException.approvedBy,
        recordedAt: data.now,
      },
    });
  }
  return granted;
}

/**
 * The id of the grant a GrantAccess gives, or undefined when the command was already applied.
 * A command's grant is issued once; an admin command whose grant has since ended (revoked,
 * expired) grants again under its next generation's id: an idempotency key repeated after a
 * revocation is a new request, not a retry of a grant still held.
 */
function nextDirectGrantId(data: GrantAccess['data'], state: AccessState): string | undefined {
  for (let generation = 1; ; generation++) {
    const grantId = directGrantId(data.commandId, data.entitlement, generation);
    if (!state.issuedGrantIds.has(grantId)) return grantId;
    if (data.source !== 'admin' || state.grants.some((grant) => grant.grantId === grantId)) return undefined;
  }
}

/**
 * revokeAccess: revokes the matching request, break-glass and admin grants (by grant, by
 * entitlement, or by request). Birthright grants belong to their rules: a revocation that
 * matches only those is refused (HeldByBirthright), one that matches both leaves them. An admin
 * revocation that matches nothing fails (NotHeld); a review or request revocation that matches
 * nothing is a repeat and gives nothing.
 */
function revokeAccess({ data }: RevokeAccess, state: AccessState): AccessEvent[] {
  const selectors = (['grantId', 'entitlement', 'requestId'] as const).filter((field) => data[field] !== undefined);
  if (selectors.length !== 1) {
    throw new ValidationFailed([{ field: 'grantId', message: 'give exactly one of grantId, entitlement, requestId' }]);
  }
  const matching = state.grants.filter(
    (grant) =>
      (data.grantId === undefined || grant.grantId === data.grantId) &&
      (data.entitlement === undefined || grant.entitlement === data.entitlement) &&
      (data.requestId === undefined || grant.requestId === data.requestId),
  );
  const revocable = matching.filter((grant) => grant.source !== 'birthright');
  if (revocable.length === 0) {
    if (matching.length > 0) {
      const ruleKeys = [...new Set(matching.map((grant) => grant.ruleKey ?? ''))].filter(Boolean);
      throw new HeldByBirthright(data.identityId, matching[0].entitlement, ruleKeys);
    }
    if (data.reason === 'admin') {
      const { grantId, entitlement, requestId } = data;
      throw new NotHeld(data.identityId, { ...(grantId && { grantId }), ...(entitlement && { entitlement }), ...(requestId && { requestId }) });
    }
    return [];
  }
  return revocable.map((grant) => revocation(data.identityId, grant, data.reason, data.now, data.detail));
}

/**
 * revokeAllAccess: a leaver is marked terminated first (so checks deny at once), then loses
 * every grant, just-in-time and break-glass included; a second time does nothing.
 */
function revokeAllAccess({ data }: RevokeAllAccess, state: AccessState): AccessEvent[] {
  if (state.kind === 'TerminatedAccess') return [];
  return [
    { type: 'AccessTerminated', data: { identityId: data.identityId, at: data.now } },
    ...state.grants.map((grant) => revocation(data.identityId, grant, data.reason, data.now)),
  ];
}

/** expireGrant: a grant ends once `now` reaches its `expiresAt`; early, unknown or already ended grants give nothing. */
function expireGrant({ data }: ExpireGrant, state: AccessState): AccessEvent[] {
  const grant = state.grants.find((candidate) => candidate.grantId === data.grantId);
  if (!grant || !hasEnded(grant, data.now)) return [];
  return [revocation(data.identityId, grant, 'expired', data.now)];
}

/**
 * extendGrant: an approved extension moves the end of a request's grants held now to a later
 * `expiresAt`, within the entitlement's `maxDuration` from now, for an identity that is not
 * terminated. A grant ending at or after that time already (a repeat, or a later extension) or
 * without an end is left as is; a request none of whose grants is held any more has nothing to
 * extend (NotHeld): an ended grant is not brought back.
 */
function extendGrant({ data }: ExtendGrant, state: AccessState): AccessEvent[] {
  if (state.kind === 'TerminatedAccess') throw new IdentityTerminated(data.identityId);
  const errors: FieldError[] = [];
  for (const field of ['requestId', 'reason', 'extendedBy'] as const) {
    if (typeof data[field] !== 'string' || data[field].trim() === '') errors.push({ field, message: 'must not be blank' });
  }
  if (!Number.isSafeInteger(data.round) || data.round < 1) errors.push({ field: 'round', message: 'must be an extension round (1 or more)' });
  if (instantOf(data.expiresAt, 'expiresAt') <= instantOf(data.now, 'now')) errors.push({ field: 'expiresAt', message: 'must lie after now' });
  if (errors.length > 0) throw new ValidationFailed(errors);

  const held = state.grants.filter((grant) => grant.requestId === data.requestId && !hasEnded(grant, data.now));
  if (held.length === 0) throw new NotHeld(data.identityId, { requestId: data.requestId });
  const end = instantOf(data.expiresAt, 'expiresAt');
  const shorter = held.filter((grant) => grant.expiresAt !== undefined && instantOf(grant.expiresAt, 'expiresAt') < end);
  if (shorter.length === 0) return [];
  if (data.maxDuration !== undefined) {
    const latestExpiry = latestExpiryOf(data.now, data.maxDuration);
    if (end > instantOf(latestExpiry, 'maxDuration')) throw new DurationExceedsMaximum(shorter[0].entitlement, data.maxDuration, data.expiresAt, latestExpiry);
  }
  return shorter.map((grant) => ({
    type: 'AccessExtended',
    data: {
      grantId: grant.grantId,
      identityId: data.identityId,
      entitlement: grant.entitlement,
      requestId: data.requestId,
      round: data.round,
      previousExpiresAt: grant.expiresAt!,
      expiresAt: data.expiresAt,
      reason: data.reason,
      extendedBy: data.extendedBy,
      extendedAt: data.now,
    },
  }));
}

/** reinstateAccess: a rehired identity may receive grants again; an identity that is not terminated is left as is. */
function reinstateAccess({ data }: ReinstateAccess, state: AccessState): AccessEvent[] {
  if (state.kind !== 'TerminatedAccess') return [];
  return [{ type: 'AccessReinstated', data: { identityId: data.identityId, at: data.now } }];
}

function revocation(identityId: string, grant: Grant, reason: RevokeReason, now: string, detail?: string): AccessRevoked {
  return {
    type: 'AccessRevoked',
    data: {
      grantId: grant.grantId,
      identityId,
      entitlement: grant.entitlement,
      source: grant.source,
      reason,
      revokedAt: now,
      ...(detail !== undefined && { detail }),
    },
  };
}

function tripleOf(grant: Grant): DesiredGrant {
  return { entitlement: grant.entitlement, role: grant.role ?? '', ruleKey: grant.ruleKey ?? '' };
}

/** A grant has ended once `now` reaches its `expiresAt`. */
function hasEnded(grant: Grant, now: string): boolean {
  return !grantInForce(grant, now);
}

/** A held grant covers a new one when it is in force and ends no earlier. */
function covers(held: Grant, expiresAt: string | undefined, now: string): boolean {
  if (hasEnded(held, now)) return false;
  if (held.expiresAt === undefined) return true;
  return expiresAt !== undefined && instantOf(held.expiresAt, 'expiresAt') >= instantOf(expiresAt, 'expiresAt');
}
