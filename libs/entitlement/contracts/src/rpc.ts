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
