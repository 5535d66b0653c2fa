import type { Grant, SodExceptionRecorded } from '@custos/entitlement/contracts';

/** An approved SoD exception, as long as the grant it approved is held. */
export type SodExceptionRecord = Omit<SodExceptionRecorded['data'], 'identityId'>;

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
  /** The SoD exceptions of the grants held now. */
  sodExceptions: readonly SodExceptionRecord[];
}

export interface ActiveAccess extends AccessLedger {
  kind: 'ActiveAccess';
}

export interface TerminatedAccess extends AccessLedger {
  kind: 'TerminatedAccess';
  terminatedAt: string;
}

export type AccessState = ActiveAccess | TerminatedAccess;

/** initialState: an identity nobody has granted anything yet; not terminated. */
export function initialState(): AccessState {
  return { kind: 'ActiveAccess', grants: [], issuedGrantIds: new Set(), fulfilledRequests: new Set(), flaggedMoves: new Set(), sodExceptions: [] };
}

/** fulfilledRequestKey: a request is fulfilled per entitlement (a role request grants several). */
export function fulfilledRequestKey(requestId: string, entitlement: string): string {
  return JSON.stringify([requestId, entitlement]);
}
