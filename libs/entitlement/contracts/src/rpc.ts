import type { SodConflict } from './sod-policy-events';

/**
 * The entitlement context's request-reply endpoints on the bus, with what each takes and answers.
 * A subject carries no namespace: the bus adds its own. A refused request fails with an RpcError
 * whose status says why (400 malformed, 404 unknown keys), as the HTTP routes would.
 */

/** `rpc.entitlement.check`: may this identity use this entitlement now? Answered as GET /check answers. */
export const CHECK_RPC = 'rpc.entitlement.check';

export interface CheckRequest {
  identityId: string;
  /** The entitlement key (`github:repo-read`). */
  entitlement: string;
}

export interface CheckResult {
  allowed: boolean;
  /** `unknown-identity`: the entitlement context has not heard of the identity. */
  reason: 'granted' | 'terminated' | 'not-granted' | 'expired' | 'unknown-identity';
  /** The grants that allow it (empty when denied). */
  grantIds: string[];
  /** When the last allowing grant ends; absent when any allowing grant has no end. */
  expiresAt?: string;
}

/** `rpc.entitlement.evaluate-sod`: the separation-of-duties violations that adding these entitlements to what the identity holds now would create. */
export const EVALUATE_SOD_RPC = 'rpc.entitlement.evaluate-sod';

export interface EvaluateSodRequest {
  identityId: string;
  /** Entitlement keys; an unknown one is a 404 naming it. */
  entitlements: string[];
}

export interface EvaluateSodResult {
  /** `prevent` when any new conflict is of a prevent policy, else `approve` when any is, else `allow`. */
  outcome: 'allow' | 'approve' | 'prevent';
  violations: SodConflict[];
}

/**
 * `rpc.entitlement.expand-role`: the entitlements an active role gives now (its own and, through
 * its child roles, theirs; retired entitlements left out), for a request for the role. An
 * unknown or retired role fails with 404 (not-defined).
 */
export const EXPAND_ROLE_RPC = 'rpc.entitlement.expand-role';

export interface ExpandRoleRequest {
  role: string;
}

export interface ExpandRoleResult {
  role: string;
  /** Entitlement keys, each once, in the role's order. */
  entitlements: string[];
}

/**
 * `rpc.entitlement.grant-request`: grant what an approved access request asks for (source
 * `request`), or what a break-glass use takes (source `break-glass`: `requestId` is then the
 * use's id, `expiresAt` is required, and SoD policies do not refuse it: it is reviewed
 * afterwards). The request context's fulfilment asks it once a request is approved or the glass
 * broken. Idempotent per `requestId` and entitlement: a retry grants nothing new and answers
 * the grants again. A role request's entitlements are granted in one transaction: all or none. A refusal (an unknown or retired entitlement, a terminated identity, a
 * prevent SoD conflict on a request) fails with the status the HTTP routes would answer.
 */
export const GRANT_REQUEST_RPC = 'rpc.entitlement.grant-request';

export interface GrantRequestCommand {
  /** Absent: `request`. */
  source?: 'request' | 'break-glass';
  /** The request's id, or the break-glass use's. */
  requestId: string;
  identityId: string;
  /** The catalog entitlement the request was approved for (give it, or `role` with `entitlements`). */
  entitlement?: string;
  /** A request for a role: the role, and the entitlements approved for it, each granted with `role` on it, all or none. */
  role?: string;
  entitlements?: string[];
  /** The requester's justification, kept as the grant's reason. */
  reason: string;
  /** Absent: the grant has no end. */
  expiresAt?: string;
  /** An approved exception to `approve` SoD policies (the request's security step). */
  sodException?: { reason: string; approvedBy: string };
  /** Who approved the request last (the grant's `grantedBy`); for break-glass, the identity who broke the glass. */
  approvedBy: string;
}

export interface RequestGrant {
  grantId: string;
  entitlement: string;
  expiresAt?: string;
}

export interface GrantRequestResult {
  /** Every grant the identity holds now through this request. */
  grants: RequestGrant[];
}

/**
 * `rpc.entitlement.extend-request`: move the end of the grants an access request gave, held
 * now, to `expiresAt` (an extension round of the request was approved): AccessExtended, the
 * grants keep their ids, their expiry moves. Idempotent: a grant already ending at or after
 * `expiresAt` is left as is, and the answer names the grants with their ends either way. A
 * refusal (none of the request's grants held any more, 404 not-held; a terminated identity 409;
 * an end past the entitlement's maxDuration 422) fails with the status the HTTP routes would answer.
 */
export const EXTEND_REQUEST_RPC = 'rpc.entitlement.extend-request';

export interface ExtendRequestCommand {
  requestId: string;
  identityId: string;
  /** The request's extension round (1 or more). */
  round: number;
  /** The new end (RFC 3339). */
  expiresAt: string;
  /** The extension's justification. */
  reason: string;
  /** Who approved the extension last. */
  approvedBy: string;
}

export interface ExtendRequestResult {
  /** Every grant the identity holds now through this request, with its end. */
  grants: RequestGrant[];
}

/**
 * `rpc.entitlement.revoke-request`: end the grants an access request gave (the beneficiary gave
 * the access back early). Idempotent: grants already ended are not revoked again.
 */
export const REVOKE_REQUEST_RPC = 'rpc.entitlement.revoke-request';

export interface RevokeRequestCommand {
  requestId: string;
  identityId: string;
  /** Why, in the beneficiary's words. */
  detail?: string;
}

export interface RevokeRequestResult {
  revokedGrantIds: string[];
}
