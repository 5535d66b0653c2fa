import type { GrantSource } from '@custos/entitlement/contracts';
import type { DesiredGrant } from '../policies/birthright-policy';
import type { SodPolicyView } from '../policies/sod';

/** Why a conflicting grant is accepted, and who accepted it (an identity id). */
export interface SodException {
  reason: string;
  approvedBy: string;
}

/** The caller behind a grant: an admin grant is checked against who they are and how they signed in. */
export interface GrantedBy {
  actor: string;
  /** Authentication methods of the caller's login (`mfa` after multi-factor). */
  amr: readonly string[];
}

export type BirthrightReason = 'joiner' | 'mover' | 'rehire' | 'role-changed' | 'rule-changed';

/** Makes the identity's birthright grants equal `desired` (computed with `birthrightAccess`). */
export interface ApplyBirthright {
  type: 'ApplyBirthright';
  data: {
    identityId: string;
    desired: DesiredGrant[];
    reason: BirthrightReason;
    now: string;
    /** Unique per command; grant ids derive from it, so a retry yields the same events. */
    commandId: string;
  };
}

export interface GrantAccess {
  type: 'GrantAccess';
  data: {
    identityId: string;
    entitlement: string;
    source: Exclude<GrantSource, 'birthright'>;
    /** The role a role request asked for. */
    role?: string;
    /** Required for source `request`. */
    requestId?: string;
    /** The justification. */
    reason: string;
    now: string;
    /** Required for `break-glass`; makes any grant just-in-time. */
    expiresAt?: string;
    /** Whether the entitlement is privileged (from the catalog): an admin gives it only after multi-factor login. */
    privileged: boolean;
    /** Who gives the grant (an identity id, or a system actor) and how they signed in (the token's `amr`). */
    grantedBy: GrantedBy;
    /** The entitlement's `maxDuration`, when it has one: caps `expiresAt`. */
    maxDuration?: string;
    /** The SoD policies in force; `prevent` policies refuse the grant (break-glass excepted). */
    sodPolicies: readonly SodPolicyView[];
    /**
     * An approved exception to `approve` SoD policies: an admin grant that creates such a
     * conflict needs one; given, it is recorded (SodExceptionRecorded) beside the grant.
     */
    sodException?: SodException;
    commandId: string;
  };
}

/** Give exactly one of `grantId`, `entitlement`, `requestId`. */
export interface RevokeAccess {
  type: 'RevokeAccess';
  data: {
    identityId: string;
    grantId?: string;
    entitlement?: string;
    requestId?: string;
    reason: 'admin' | 'review' | 'request-revoked';
    detail?: string;
    now: string;
  };
}

export interface RevokeAllAccess {
  type: 'RevokeAllAccess';
  data: { identityId: string; reason: 'leaver'; now: string };
}

export interface ExpireGrant {
  type: 'ExpireGrant';
  data: { identityId: string; grantId: string; now: string };
}

/**
 * Extends the grants an access request gave, held now and ending before `expiresAt`: an
 * extension round of the request was approved (`round`).
 */
export interface ExtendGrant {
  type: 'ExtendGrant';
  data: {
    identityId: string;
    requestId: string;
    round: number;
    /** The new end: later than the grants' current end, within `maxDuration` of now. */
    expiresAt: string;
    /** The entitlement's `maxDuration`, when it has one. */
    maxDuration?: string;
    /** The extension's justification. */
    reason: string;
    /** Who approved the extension last. */
    extendedBy: string;
    now: string;
  };
}

export interface ReinstateAccess {
  type: 'ReinstateAccess';
  data: { identityId: string; now: string };
}

export type AccessCommand = ApplyBirthright | GrantAccess | RevokeAccess | RevokeAllAccess | ExpireGrant | ExtendGrant | ReinstateAccess;
