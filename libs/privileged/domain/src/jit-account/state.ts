import type { JitAccountRequested } from '@custos/privileged/contracts';

export type JitAccountFacts = JitAccountRequested['data'];

export interface NoJitAccount {
  kind: 'NoJitAccount';
}

/** To be made on the target. */
export interface RequestedJitAccount {
  kind: 'RequestedJitAccount';
  account: JitAccountFacts;
}

/** The role exists; `delivered` once the beneficiary fetched its credential. */
export interface ActiveJitAccount {
  kind: 'ActiveJitAccount';
  account: JitAccountFacts;
  delivered: boolean;
}

/** The grant ended: the role is to be dropped. */
export interface EndingJitAccount {
  kind: 'EndingJitAccount';
  account: JitAccountFacts;
  reason: string;
}

export interface DroppedJitAccount {
  kind: 'DroppedJitAccount';
  account: JitAccountFacts;
  reason: string;
}

export type JitAccountState = NoJitAccount | RequestedJitAccount | ActiveJitAccount | EndingJitAccount | DroppedJitAccount;

/** initialState: the grant has no account. */
export function initialState(): JitAccountState {
  return { kind: 'NoJitAccount' };
}
