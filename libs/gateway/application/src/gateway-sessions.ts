import { CHECK_RPC, type CheckRequest, type CheckResult } from '@custos/entitlement/contracts';
import { sessionStreamId, type SessionEvent } from '@custos/gateway/contracts';
import { NoAccessToTarget, NotSecurityApprover, SessionNotFound, SessionNotHere, SessionNotLive, StepUpRequired, UnknownGatewayTarget } from '@custos/gateway/domain';
import type { CustosEvent } from '@custos/platform/event-store';
import type { ContextRuntime } from '@custos/platform/runtime';
import type { LiveSessions } from './live-sessions';
import type { AccessToTarget, UpstreamResolver } from './ports';
import type { SessionsView, SessionQuery, SessionSummary } from './read-models/sessions-view/sessions-view';
import type { SessionRecorder } from './session-recorder';
import type { IssuedToken, SessionTokens } from './session-tokens';

/** The built-in entitlement of the security approvers. */
export const SECURITY_ENTITLEMENT = 'custos:security';

/** A caller as the gateway's routes know it. */
export interface Caller {
  identityId: string;
  roles: string[];
  /** `mfa` present after a recent multi-factor login (the edge judged it). */
  amr: string[];
}

/** A session's recording as GET /sessions/{id} answers it: the summary and every event of its stream, in order. */
export interface SessionRecording extends SessionSummary {
  events: Array<{ type: string; time: string; data: unknown }>;
}

const READERS = ['custos:admin', 'custos:auditor'];

/**
 * GatewaySessions is the gateway's HTTP-facing service: session tokens for callers with access,
 * the recordings and who may read them, the terminate command for security approvers, and live
 * monitoring.
 */
export class GatewaySessions {
  constructor(
    private readonly runtime: ContextRuntime,
    private readonly tokens: SessionTokens,
    private readonly access: AccessToTarget,
    private readonly upstreams: UpstreamResolver,
    private readonly view: SessionsView,
    private readonly live: LiveSessions,
    private readonly recorder: SessionRecorder,
    private readonly tokenTtlMs: number,
  ) {}

  /** A session token for the caller on a target they may reach now: the grant is checked here and again at connection. */
  async issueToken(caller: Caller, target: string): Promise<IssuedToken> {
    if (!(await this.upstreams.knows(target))) throw new UnknownGatewayTarget(target);
    const access = await this.access.check(caller.identityId, target);
    if (!access.allowed) throw new NoAccessToTarget(caller.identityId, target);
    if (access.privileged && !caller.amr.includes('mfa')) throw new StepUpRequired(target);
    const ttl = access.expiresAt ? Math.min(this.tokenTtlMs, Date.parse(access.expiresAt) - this.runtime.clock().getTime()) : this.tokenTtlMs;
    return this.tokens.issue({ identityId: caller.identityId, target }, Math.max(ttl, 1));
  }

  /** Sessions: everyone's for administrators, auditors and security approvers; the caller's own for anyone else. */
  async list(caller: Caller, query: SessionQuery): Promise<SessionSummary[]> {
    // Read-your-writes: a session that just ended is listed.
    await this.view.caughtUp();
    if (await this.mayReadAll(caller)) return this.view.list(query);
    if (query.identityId !== undefined && query.identityId !== caller.identityId) return [];
    return this.view.list({ ...query, identityId: caller.identityId });
  }

  async recording(caller: Caller, sessionId: string): Promise<SessionRecording> {
    const summary = await this.readable(caller, sessionId);
    const stored = await this.runtime.store.readStream(sessionStreamId(sessionId));
    return { ...summary, events: stored.map(eventOf) };
  }

  /** Ends a live session held by this gateway, on behalf of a security approver. */
  async terminate(caller: Caller, sessionId: string, reason: string | undefined): Promise<SessionSummary> {
    if (!(await this.isSecurity(caller))) throw new NotSecurityApprover(caller.identityId);
    await this.view.caughtUp();
    const summary = await this.view.get(sessionId);
    if (!summary || summary.status === 'refused') throw new SessionNotFound(sessionId);
    if (summary.status !== 'live') throw new SessionNotLive(sessionId);
    const session = this.live.get(sessionId);
    if (!session) throw new SessionNotHere(sessionId, summary.gatewayId ?? 'unknown');
    await session.cut('terminated', caller.identityId, `terminated by a security approver (${caller.identityId})${reason ? `: ${reason}` : ''}`);
    await this.view.caughtUp();
    return (await this.view.get(sessionId)) ?? summary;
  }

  /**
   * Live monitoring of one session for a security approver (or an administrator or auditor): the
   * recording so far, then each event as it is recorded, until the session ends.
   */
  async watch(caller: Caller, sessionId: string, send: (event: { type: string; time: string; data: unknown }) => void, done: () => void): Promise<() => void> {
    if (!(await this.isSecurity(caller)) && !caller.roles.some((r) => READERS.includes(r))) throw new NotSecurityApprover(caller.identityId);
    await this.view.caughtUp();
    if (!(await this.view.get(sessionId))) throw new SessionNotFound(sessionId);
    // Subscribed before reading, so nothing recorded in between is missed; stream versions drop what the read already had.
    let delivered = 0;
    let reading = true;
    const queued: Array<{ events: SessionEvent[]; version: number }> = [];
    const deliver = (events: Array<{ type: string; time: string; data: unknown }>) => {
      for (const event of events) {
        send(event);
        if (event.type === 'SessionEnded' || event.type === 'SessionMarkedIncomplete') done();
      }
    };
    const deliverBatch = ({ events, version }: { events: SessionEvent[]; version: number }) => {
      const fresh = events.slice(Math.max(0, delivered - (version - events.length)));
      delivered = Math.max(delivered, version);
      deliver(fresh.map((e) => ({ type: e.type, time: this.runtime.clock().toISOString(), data: e.data })));
    };
    const unsubscribe = this.recorder.subscribe((id, events, version) => {
      if (id !== sessionId) return;
      if (reading) queued.push({ events, version });
      else deliverBatch({ events, version });
    });
    const stored = await this.runtime.store.readStream(sessionStreamId(sessionId));
    delivered = stored.length;
    reading = false;
    deliver(stored.map(eventOf));
    for (const batch of queued) deliverBatch(batch);
    if (stored.length > 0 && !this.live.get(sessionId)) done();
    return unsubscribe;
  }

  private async readable(caller: Caller, sessionId: string): Promise<SessionSummary> {
    await this.view.caughtUp();
    const summary = await this.view.get(sessionId);
    if (!summary) throw new SessionNotFound(sessionId);
    if (summary.identityId === caller.identityId || (await this.mayReadAll(caller))) return summary;
    throw new SessionNotFound(sessionId);
  }

  private async mayReadAll(caller: Caller): Promise<boolean> {
    return caller.roles.some((r) => READERS.includes(r)) || (await this.isSecurity(caller));
  }

  private async isSecurity(caller: Caller): Promise<boolean> {
    const result = await this.runtime.bus.request<CheckResult>(CHECK_RPC, { identityId: caller.identityId, entitlement: SECURITY_ENTITLEMENT } satisfies CheckRequest);
    return result.allowed;
  }
}

function eventOf(e: CustosEvent): { type: string; time: string; data: unknown } {
  return { type: e.name, time: e.time, data: e.data };
}
