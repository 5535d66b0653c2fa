import type { SessionEndReason } from '@custos/gateway/contracts';

/** A session held open by this gateway process. */
export interface LiveSession {
  sessionId: string;
  identityId: string;
  target: string;
  grantIds: string[];
  /** The key the client was given for CancelRequest (BackendKeyData): its own, never the upstream's. */
  cancelKey: string;
  /** Ends it: the client is told why in a PostgreSQL error, the upstream connection is closed, the end is recorded. */
  cut(reason: SessionEndReason, endedBy: string, detail: string): Promise<void>;
  /** Cancels the statement running upstream (the client's CancelRequest). */
  cancel(): void;
}

/**
 * LiveSessions is this process's registry of the sessions it holds, by id, by identity and by
 * cancel key: where a grant watch, the terminate route and a CancelRequest find them.
 */
export class LiveSessions {
  private readonly byId = new Map<string, LiveSession>();
  private readonly byCancelKey = new Map<string, LiveSession>();

  add(session: LiveSession): void {
    this.byId.set(session.sessionId, session);
    this.byCancelKey.set(session.cancelKey, session);
  }

  remove(sessionId: string): void {
    const session = this.byId.get(sessionId);
    if (!session) return;
    this.byId.delete(sessionId);
    this.byCancelKey.delete(session.cancelKey);
  }

  get(sessionId: string): LiveSession | undefined {
    return this.byId.get(sessionId);
  }

  byCancel(key: string): LiveSession | undefined {
    return this.byCancelKey.get(key);
  }

  ofIdentity(identityId: string): LiveSession[] {
    return [...this.byId.values()].filter((s) => s.identityId === identityId);
  }

  all(): LiveSession[] {
    return [...this.byId.values()];
  }

  get size(): number {
    return this.byId.size;
  }
}
