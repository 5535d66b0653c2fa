import type { IdentitySnapshot } from '@custos/identity/contracts';

/** What every existing identity keeps beside its snapshot to order late HR changes. */
export interface IdentityTimeline {
  identity: IdentitySnapshot;
  /** The point on HR's timeline that the record reflects (see timelinePosition); older record changes are superseded. */
  recordAsOf: string;
  /** The same for group memberships, which come from their own source (SCIM groups). */
  groupsAsOf: string;
  /** Where the rehire that began the current employment sits; a leaver older than it belonged to the previous one. */
  rehiredAsOf?: string;
}

export interface NoIdentity {
  kind: 'NoIdentity';
}

/** Hired (or rehired) with a start date still ahead. */
export interface PendingIdentity extends IdentityTimeline {
  kind: 'PendingIdentity';
  startsAt: string;
}

export interface ActiveIdentity extends IdentityTimeline {
  kind: 'ActiveIdentity';
}

export interface TerminatedIdentity extends IdentityTimeline {
  kind: 'TerminatedIdentity';
  /** The leaver's effective time. */
  terminatedAt: string;
}

export type IdentityState = NoIdentity | PendingIdentity | ActiveIdentity | TerminatedIdentity;

export type ExistingIdentity = Exclude<IdentityState, NoIdentity>;

/** initialState is the state of an identity stream with no events: no identity. */
export function initialState(): IdentityState {
  return { kind: 'NoIdentity' };
}
