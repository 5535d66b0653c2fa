import type { RequestEvent } from '@custos/request/contracts';
import type { Decider } from '@custos/platform/domain';
import type { RequestCommand } from './commands';
import { decide } from './decide';
import { evolve } from './evolve';
import { initialState, type RequestState } from './state';

export * from './commands';
export type {
  RequestState,
  NoRequest,
  PendingRequest,
  ApprovedRequest,
  DeniedRequest,
  CancelledRequest,
  ExpiredRequest,
  RefusedRequest,
  FulfilledRequest,
  EndedRequest,
  RequestFacts,
  ApprovalRound,
  RequestGrant,
} from './state';
export { pendingRound, statusOf } from './state';
export { openedStep } from './evolve';

/**
 * requestDecider: one access request (stream `request-{requestId}`).
 *
 *     NoRequest --SubmitRequest--> PendingRequest --last step approved--> ApprovedRequest --RecordFulfilment--> FulfilledRequest --last grant ended--> EndedRequest
 *                                                                          '--RecordFulfilmentRefused (entitlement refused the grant)--> RefusedRequest
 *                                      |--a deny--> DeniedRequest
 *                                      |--CancelRequest (requester)--> CancelledRequest
 *                                      '--ExpireRequest past the second SLA--> ExpiredRequest
 *     FulfilledRequest: RequestExtension opens round n (same steps, approvers resolved again), decided like
 *     round 0: ExtensionApproved -> RecordFulfilment(round n) | ExtensionDenied | ExtensionExpired;
 *     RevokeEarly (beneficiary) -> AccessRevokedEarly, then the grants' ends (RecordGrantEnded).
 *
 * Refused decisions are recorded, not only thrown. Who may decide is checked on a pending
 * round only; there, an attempt by the requester or the beneficiary (directly, as a delegate, or
 * for a delegator who is one), by someone who is no approver of the current step, or without
 * `mfa` on a privileged request, makes `decide` return exactly one event, `DecisionRefused`,
 * whose `reason` is the code of the error to answer with. The application appends it like any
 * other decided events (so the audit trail shows the attempt) and then answers with the error:
 *
 *     const { events } = await handleCommand(store, requestStreamId(id), requestDecider, command, meta);
 *     const refusal = refusalOf(events);   // SelfApproval | NotEligibleApprover | StepUpRequired (403)
 *     if (refusal) throw refusal;
 *
 * Everything else that breaks a rule throws and writes nothing: a request that is no longer
 * pending (RequestNotPending, 409), a second different decision by the same approver
 * (AlreadyDecided, 409), a missing exception justification (ValidationFailed, 400)...
 *
 * What the application resolves and passes in (the domain does no I/O):
 * - SubmitRequest: the catalog's facts (privileged, maxDuration, approvalSla, approvalPolicy;
 *   for a role, its entitlements now and their facts taken together by `roleFacts`), the
 *   approvers of each kind (`approvers`: manager, owners, security holders, inactive ids) and
 *   the `rpc.entitlement.evaluate-sod` answer; the domain routes and freezes the steps.
 * - DecideRequest: the token's `amr`, the delegations naming the approver as delegate, and the
 *   approvers of now for the step it may open (a step's approvers are resolved when it opens).
 * - EscalateRequest: the managers of the step's approvers; RequestExtension: `approvers` again.
 * - The scheduler sends EscalateRequest at each ApprovalRequested's `escalationDueAt` and
 *   ExpireRequest at its `expiryDueAt` (both key on the round; a job that comes early or for a
 *   step that moved on decides nothing).
 * - RequestApproved / ExtensionApproved carry what GrantAccess / ExtendGrant need (beneficiary,
 *   target, expiresAt, sodException; a role's entitlements are on RequestSubmitted); AccessGranted / AccessRevoked of the request's grants come back as
 *   RecordFulfilment / RecordGrantEnded; a grant the entitlement context refuses (a rule of its
 *   own, not a transport failure) comes back as RecordFulfilmentRefused, so an approved round
 *   never waits for a grant that will not come; AccessRevokedEarly names the grants to revoke.
 */
export const requestDecider: Decider<RequestCommand, RequestEvent, RequestState> = { initialState, decide, evolve };
