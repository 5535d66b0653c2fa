import type { ApprovalPolicy, Risk } from '@custos/entitlement/contracts';

export interface DefineEntitlement {
  type: 'DefineEntitlement';
  data: {
    key: string;
    application: string;
    name: string;
    description?: string;
    privileged: boolean;
    risk: Risk;
    ownerId?: string;
    /** ISO 8601 duration capping just-in-time grants. */
    maxDuration?: string;
    /** How long a request's step waits before it escalates (the request context's default PT48H when absent). */
    approvalSla?: string;
    breakGlass?: boolean;
    /** A target key and the role on it that grants' accounts join: both or neither. */
    target?: string;
    targetRole?: string;
    /** Omitted: manager then owner, plus security when privileged (one approval each). */
    approvalPolicy?: ApprovalPolicy;
    now: string;
    actor: string;
  };
}

/** Omitted fields stay as they are; `null` clears an optional field (`approvalPolicy: null` restores the default). */
export interface ChangeEntitlement {
  type: 'ChangeEntitlement';
  data: {
    key: string;
    name?: string;
    description?: string | null;
    privileged?: boolean;
    risk?: Risk;
    ownerId?: string | null;
    maxDuration?: string | null;
    approvalSla?: string | null;
    breakGlass?: boolean;
    target?: string | null;
    targetRole?: string | null;
    approvalPolicy?: ApprovalPolicy | null;
    now: string;
    actor: string;
  };
}

export interface RetireEntitlement {
  type: 'RetireEntitlement';
  data: { key: string; reason?: string; now: string; actor: string };
}

export type EntitlementCommand = DefineEntitlement | ChangeEntitlement | RetireEntitlement;
