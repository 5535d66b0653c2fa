/** An approver away from `from` until `until` hands their approvals to `delegateId`. */
export interface GrantDelegation {
  type: 'GrantDelegation';
  data: {
    /** Minted by the application; granting the same delegation again is a retry. */
    delegationId: string;
    approverId: string;
    delegateId: string;
    from: string;
    until: string;
    now: string;
  };
}

/** The approver (back early) or the delegate (declining) ends a delegation before its `until`. */
export interface EndDelegation {
  type: 'EndDelegation';
  data: { approverId: string; delegationId: string; endedBy: string; now: string };
}

export type DelegationCommand = GrantDelegation | EndDelegation;
