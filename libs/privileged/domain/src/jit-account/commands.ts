/** A grant of a target-linked entitlement started: an account is to be made for it. */
export interface RequestJitAccount {
  type: 'RequestJitAccount';
  data: {
    grantId: string;
    identityId: string;
    entitlement: string;
    target: string;
    targetRole: string;
    username: string;
    requestId?: string;
    expiresAt?: string;
    now: string;
  };
}

/** The connector made the role on the target. */
export interface RecordJitAccountCreated {
  type: 'RecordJitAccountCreated';
  data: { grantId: string; now: string };
}

/** The grant was extended to `expiresAt`. */
export interface ExtendJitAccount {
  type: 'ExtendJitAccount';
  data: { grantId: string; expiresAt: string; now: string };
}

/** The beneficiary asks for the credential. */
export interface DeliverJitCredential {
  type: 'DeliverJitCredential';
  data: { grantId: string; identityId: string; now: string };
}

/** The grant ended (expired, revoked, the holder left, a review), or the reconciliation found the account unexplained. */
export interface EndJitAccount {
  type: 'EndJitAccount';
  data: { grantId: string; reason: string; now: string };
}

/** The connector disabled the role, ended its sessions and dropped it. */
export interface RecordJitAccountDropped {
  type: 'RecordJitAccountDropped';
  data: { grantId: string; sessionsTerminated: number; now: string };
}

export type JitAccountCommand = RequestJitAccount | RecordJitAccountCreated | ExtendJitAccount | DeliverJitCredential | EndJitAccount | RecordJitAccountDropped;
