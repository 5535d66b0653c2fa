/**
 * The gateway's ports to the rest of Custos. The gateway depends on the privileged and entitlement
 * contexts only through these: what an identity may reach on a target now, and with which
 * upstream credential the gateway logs in for it.
 */

/** An identity's access to a target now, as the entitlement context's check answers it. */
export interface TargetAccess {
  allowed: boolean;
  /** The grants that allow it, the entitlements they are of, the requests behind them. */
  grantIds: string[];
  entitlements: string[];
  requestIds: string[];
  /** When the allowing access ends; absent when some allowing grant has no end. */
  expiresAt?: string;
  /** Whether any allowing entitlement is privileged (a session token then needs a fresh multi-factor login). */
  privileged: boolean;
}

/** AccessToTarget answers "may this identity reach this target now, through which grants?" */
export interface AccessToTarget {
  check(identityId: string, target: string): Promise<TargetAccess>;
}

/** Where and as whom the gateway connects upstream for one session. The password never leaves the gateway. */
export interface UpstreamEndpoint {
  host: string;
  port: number;
  database: string;
  user: string;
  password: string;
  /** TLS to the target: false (a local target), or the options node's tls takes. */
  ssl: false | { rejectUnauthorized: boolean; ca?: string };
}

export class UnknownTarget extends Error {
  constructor(readonly target: string) {
    super(`unknown target ${target}`);
  }
}

/**
 * UpstreamResolver: for an identity's session on a target through these grants, the target's
 * address and the upstream credential (the grant's just-in-time account, or a vault check-out).
 * Throws UnknownTarget when the target is not one the gateway can reach.
 */
export interface UpstreamResolver {
  resolve(request: { identityId: string; target: string; grantIds: string[] }): Promise<UpstreamEndpoint>;
  /** Whether the gateway knows the target at all (a token for another target is refused early). */
  knows(target: string): Promise<boolean>;
}

/** Why a grant watch cut a session. */
export interface AccessEnded {
  identityId: string;
  /** The grant that ended; absent when all of the identity's access ended (a leaver). */
  grantId?: string;
  reason: 'grant-ended' | 'leaver';
  /** Words for the user's PostgreSQL error: "grant g-1 of pg-prod:readonly was revoked (expired)". */
  detail: string;
}
