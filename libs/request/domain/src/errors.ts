import type { RefusalReason, SodConflict } from '@custos/request/contracts';
import { DomainError } from '@custos/platform/domain';

/*
 * The request context's broken rules. Each names its code (DomainError); the HTTP status of each
 * code is declared at the edge (libs/request/api, `REQUEST_ERROR_STATUSES`), which puts each
 * error's own fields into the problem details. Codes shared with the entitlement context
 * (`validation-failed`, `step-up-required`, `sod-violation`, `duration-exceeds-maximum`) mean the
 * same and answer the same status there.
 */

/** The kit's validation error (one entry per bad field), among this context's errors. */
export { ValidationFailed, type FieldError } from '@custos/platform/domain';

export class RequestNotFound extends DomainError {
  static readonly code = 'request-not-found';

  constructor(readonly requestId: string) {
    super(`request ${requestId} does not exist`);
  }
}

export class RequestAlreadyExists extends DomainError {
  static readonly code = 'request-already-exists';

  constructor(readonly requestId: string) {
    super(`request ${requestId} exists already`);
  }
}

/** The request (or its extension round) is no longer pending: it takes no decision, cancellation or extension. */
export class RequestNotPending extends DomainError {
  static readonly code = 'request-not-pending';

  constructor(readonly requestId: string, readonly status: string) {
    super(`request ${requestId} is ${status}, not pending`);
  }
}

/** Only an approved round is fulfilled. */
export class RequestNotApproved extends DomainError {
  static readonly code = 'request-not-approved';

  constructor(readonly requestId: string, readonly round: number, readonly status: string) {
    super(`round ${round} of request ${requestId} is not approved (${status}): there is nothing to fulfil`);
  }
}

/** Revoking early and extending need access in force: the request was fulfilled and its access has not ended or been given back. */
export class AccessNotInForce extends DomainError {
  static readonly code = 'access-not-in-force';

  constructor(readonly requestId: string, readonly status: string) {
    super(`request ${requestId} has no access in force (${status})`);
  }
}

/** Access granted without an end has nothing to extend. */
export class AccessWithoutEnd extends DomainError {
  static readonly code = 'access-without-end';

  constructor(readonly requestId: string) {
    super(`request ${requestId} gave access without an end: there is nothing to extend`);
  }
}

/** An extension round is pending already: one at a time. */
export class ExtensionPending extends DomainError {
  static readonly code = 'extension-pending';

  constructor(readonly requestId: string, readonly round: number) {
    super(`request ${requestId} has extension round ${round} pending`);
  }
}

/** The approver (or the approver they stand in for) decided this step already, otherwise. */
export class AlreadyDecided extends DomainError {
  static readonly code = 'already-decided';

  constructor(readonly requestId: string, readonly approverId: string, readonly step: number) {
    super(`${approverId} decided step ${step} of request ${requestId} already`);
  }
}

/**
 * Nobody decides a request they raised or that benefits them: not directly, not as a delegate,
 * not in a delegator's place, not as a member of a group step. Recorded as a refusal (DecisionRefused).
 */
export class SelfApproval extends DomainError {
  static readonly code = 'self-approval';

  constructor(readonly subjectId: string, readonly approverId: string) {
    super(`${approverId} may not decide ${subjectId}: they raised it or it benefits them`);
  }
}

/** Only an eligible approver of the current step (or their delegate, or an escalation's manager) decides it. Recorded as a refusal. */
export class NotEligibleApprover extends DomainError {
  static readonly code = 'not-eligible-approver';

  constructor(readonly subjectId: string, readonly approverId: string) {
    super(`${approverId} is not an approver of the current step of ${subjectId}`);
  }
}

/** A privileged entitlement is decided only after multi-factor login (`mfa` in `amr`). Recorded as a refusal. */
export class StepUpRequired extends DomainError {
  static readonly code = 'step-up-required';

  constructor(readonly subjectId: string, readonly approverId: string) {
    super(`${subjectId} is privileged: ${approverId} needs a multi-factor login for it (amr with mfa); sign in again with a second factor`);
  }
}

/** The requester alone cancels a pending request. */
export class NotRequester extends DomainError {
  static readonly code = 'not-requester';

  constructor(readonly requestId: string, readonly actorId: string) {
    super(`${actorId} did not raise request ${requestId}: only its requester may cancel it`);
  }
}

/** The beneficiary alone gives access back early or asks to extend it. */
export class NotBeneficiary extends DomainError {
  static readonly code = 'not-beneficiary';

  constructor(readonly requestId: string, readonly actorId: string) {
    super(`${actorId} is not the beneficiary of request ${requestId}`);
  }
}

/** A just-in-time duration over the entitlement's maximum. */
export class DurationExceedsMaximum extends DomainError {
  static readonly code = 'duration-exceeds-maximum';

  constructor(readonly target: string, readonly duration: string, readonly maxDuration: string) {
    super(`${target} may be granted for at most ${maxDuration}, asked for ${duration}`);
  }
}

/** The request would create conflicts with `prevent` SoD policies; `entitlements` names the conflicting ones. */
export class SodViolation extends DomainError {
  static readonly code = 'sod-violation';
  readonly entitlements: string[];

  constructor(readonly conflicts: SodConflict[]) {
    const entitlements = [...new Set(conflicts.flatMap((c) => [...c.left, ...c.right]))];
    super(`separation of duties: ${conflicts.map((c) => `${c.policyKey} (${[...c.left, ...c.right].join(', ')})`).join('; ')}`);
    this.entitlements = entitlements;
  }
}

/** A step cannot be routed: neither its own approvers nor the security approvers can reach its approvals. */
export class NoEligibleApprovers extends DomainError {
  static readonly code = 'no-eligible-approvers';

  constructor(readonly step: number, readonly kind: string, readonly required: number) {
    super(`step ${step} (${kind}) needs ${required} approvals and no one, not even security, can give them`);
  }
}

/** Break-glass is only for entitlements marked `breakGlass`. */
export class BreakGlassNotAllowed extends DomainError {
  static readonly code = 'break-glass-not-allowed';

  constructor(readonly entitlement: string) {
    super(`${entitlement} is not marked for break-glass access`);
  }
}

export class BreakGlassNotFound extends DomainError {
  static readonly code = 'break-glass-not-found';

  constructor(readonly breakGlassId: string) {
    super(`break-glass use ${breakGlassId} does not exist`);
  }
}

export class BreakGlassAlreadyUsed extends DomainError {
  static readonly code = 'break-glass-already-used';

  constructor(readonly breakGlassId: string) {
    super(`break-glass use ${breakGlassId} exists already`);
  }
}

/** A break-glass review is completed once. */
export class ReviewCompleted extends DomainError {
  static readonly code = 'review-completed';

  constructor(readonly breakGlassId: string, readonly outcome: string) {
    super(`the review of break-glass use ${breakGlassId} is completed (${outcome})`);
  }
}

export class DelegationNotFound extends DomainError {
  static readonly code = 'delegation-not-found';

  constructor(readonly approverId: string, readonly delegationId: string) {
    super(`${approverId} has no delegation ${delegationId}`);
  }
}

/** An approver hands their approvals to one delegate at a time. */
export class DelegationOverlaps extends DomainError {
  static readonly code = 'delegation-overlaps';

  constructor(readonly approverId: string, readonly delegationIds: string[]) {
    super(`${approverId} has delegated that period already (${delegationIds.join(', ')})`);
  }
}

/** A delegation is ended by its approver or its delegate only. */
export class NotDelegationParty extends DomainError {
  static readonly code = 'not-delegation-party';

  constructor(readonly delegationId: string, readonly actorId: string) {
    super(`${actorId} is neither the approver nor the delegate of delegation ${delegationId}`);
  }
}

/** The error the edge answers for a recorded refusal. */
export function refusalError(reason: RefusalReason, subjectId: string, approverId: string): SelfApproval | NotEligibleApprover | StepUpRequired {
  switch (reason) {
    case 'self-approval':
      return new SelfApproval(subjectId, approverId);
    case 'not-eligible-approver':
      return new NotEligibleApprover(subjectId, approverId);
    case 'step-up-required':
      return new StepUpRequired(subjectId, approverId);
  }
}
