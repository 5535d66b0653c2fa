import type { TargetKind } from '@custos/privileged/contracts';

/** Where a target is and how Custos logs in to administer it (the admin password from the vault). */
export interface TargetAccess {
  key: string;
  kind: TargetKind;
  host: string;
  port: number;
  database: string;
  adminUsername: string;
  adminPassword: string;
}

/** An account to make on a target. */
export interface NewAccount {
  username: string;
  password: string;
  /** The role on the target the account joins (an entitlement's targetRole). */
  memberOf: string;
  /** The account stops working at this instant even if Custos never drops it (the grant's end); absent: no end. */
  validUntil?: string;
}

/** The target refused or could not be reached. `reason` is the target's or the network's word, never a password. */
export class ConnectorError extends Error {
  constructor(readonly reason: string, readonly code?: string) {
    super(reason);
  }
}

/**
 * Connector is the port to a kind of managed system (PostgreSQL now; MySQL/MariaDB, SSH keys and
 * cloud IAM can implement it later). Every operation is idempotent, because the scheduler's jobs
 * that call it may run again after a crash: making an account that exists sets it as asked,
 * dropping one that is gone succeeds. The accounts Custos makes are marked as its own on the
 * target, so listAccounts never returns an account somebody else made.
 */
export interface Connector {
  /** Reaches the target with the admin credential and checks that it may manage accounts; throws ConnectorError saying why not. */
  verify(target: TargetAccess): Promise<void>;
  /** Makes (or re-makes) a login account with this password, membership and end, marked as Custos's. */
  createAccount(target: TargetAccess, account: NewAccount): Promise<void>;
  /** Moves the end of an account's validity (its grant was extended). */
  extendAccount(target: TargetAccess, username: string, validUntil: string): Promise<void>;
  /** Sets an existing account's password. */
  rotatePassword(target: TargetAccess, username: string, password: string): Promise<void>;
  /** Disables the account, terminates its live sessions, and drops it; answers how many sessions it ended. */
  dropAccount(target: TargetAccess, username: string): Promise<{ sessionsTerminated: number }>;
  /** Ends the account's live sessions now; answers how many. */
  terminateSessions(target: TargetAccess, username: string): Promise<number>;
  /** The accounts Custos made on the target whose names start with `prefix`. */
  listAccounts(target: TargetAccess, prefix: string): Promise<string[]>;
  /** Closes what it holds open (connection pools). */
  close(): Promise<void>;
}
