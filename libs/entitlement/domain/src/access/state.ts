import type { Grant } from '@custos/entitlement/contracts';

/** What the access stream remembers besides the grants held now, to make retries harmless. */
interface AccessLedger {
  /** The grants held now. */
  grants: Grant[];
  /** Every grant id ever issued on this stream: none is issued twice. */
  issuedGrantIds: ReadonlySet<string>;
  /** `requestId` + entitlement pairs ever granted: a request is fulfilled once. */
  fulfilledRequests: ReadonlySet<string>;
  /** Moves whose kept access was already flagged for review. */
  flaggedMoves: ReadonlySet<string>;
}

export interface ActiveAccess extends AccessLedger {
  status: 'active';
}

export interface TerminatedAccess extends AccessLedger {
  status: 'terminated';
  terminatedAt: string;
}

export type AccessState = ActiveAccess | TerminatedAccess;

/** initialAccessState: an identity nobody has granted anything yet; not terminated. */
export function initialAccessState(): AccessState {
  return { status: 'active', grants: [], issuedGrantIds: new Set(), fulfilledRequests: new Set(), flaggedMoves: new Set() };
}

/** fulfilledRequestKey: a request is fulfilled per entitlement (a role request grants several). */
export function fulfilledRequestKey(requestId: string, entitlement: string): string {
  return JSON.stringify([requestId, entitlement]);
}
