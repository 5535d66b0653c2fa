import type { TargetKind } from '@custos/privileged/contracts';

/** Register a managed system. The application tried the connector first and puts what it found on the command. */
export interface RegisterTarget {
  type: 'RegisterTarget';
  data: {
    key: string;
    kind: TargetKind;
    host: string;
    port: number;
    database: string;
    adminUsername: string;
    /** The connector's verdict with the admin credential given: reached and logged in, or why not. */
    verified: { ok: true } | { ok: false; reason: string };
    now: string;
    actor: string;
  };
}

/** The reconciliation dropped an account nothing explains: recorded on the target. */
export interface RecordUnexplainedAccountDropped {
  type: 'RecordUnexplainedAccountDropped';
  data: { key: string; username: string; sessionsTerminated: number; now: string };
}

export type TargetCommand = RegisterTarget | RecordUnexplainedAccountDropped;
