import { randomUUID } from 'node:crypto';
import { GRANT_REQUEST_RPC, type GrantRequestCommand, type GrantRequestResult } from '@custos/entitlement/contracts';
import type { SqlExecutor } from '@custos/platform/event-store';
import { RpcError } from '@custos/platform/messaging';
import { handleCommand, type CommandMeta, type ContextRuntime, type DurableScheduler } from '@custos/platform/runtime';
import { breakGlassStreamId, type BreakGlassEvent, type BreakGlassReviewOutcome, type BreakGlassUsed } from '@custos/request/contracts';
import { BreakGlassNotFound, breakGlassDecider, refusalOf, type BreakGlassCommand, type BreakGlassState } from '@custos/request/domain';
import { UnknownEntitlement } from './errors';
import type { Directory } from './read-models/directory/directory';

/** The scheduler's job kind for a break-glass review still open at its due time. */
export const ESCALATE_BREAK_GLASS_REVIEW = 'escalate-break-glass-review';

export interface UseBreakGlassInput {
  /** Who breaks the glass: the caller, who gets the access. */
  identityId: string;
  entitlement: string;
  justification: string;
  /** ISO 8601; absent: the entitlement's maxDuration (PT1H by default). */
  duration?: string;
  /** The caller's token's `amr`: a privileged entitlement needs `mfa`. */
  amr: readonly string[];
}

/** A break-glass use as GET /break-glass/{id} answers it. */
export interface BreakGlassAnswer {
  breakGlassId: string;
  /** awaiting-review until a security approver reviewed it, then reviewed. */
  status: 'awaiting-review' | 'reviewed';
  identityId: string;
  entitlement: string;
  justification: string;
  duration: string;
  expiresAt: string;
  privileged: boolean;
  /** The security approvers who may review it (the user left out). */
  reviewerIds: string[];
  reviewDueAt: string;
  usedAt: string;
  /** The grant, once the entitlement context gave it. */
  grantId?: string;
  /** Who may review it too, once the review was late. */
  escalatedTo?: string[];
  escalatedAt?: string;
  review?: { reviewerId: string; outcome: BreakGlassReviewOutcome; comment: string; reviewedAt: string };
}

/**
 * BreakGlassService runs the break-glass aggregate's commands (stream `break-glass-{id}`): the
 * use is recorded with the scheduler's job for its review's due time in one transaction, then
 * granted at once through `rpc.entitlement.grant-request` (source `break-glass`), the same door
 * the fulfilment uses; the fulfilment also grants it from BreakGlassUsed, so a use whose
 * immediate grant did not get through is granted once the entitlement service answers. A
 * security approver reviews it; one still open at its due time escalates.
 */
export class BreakGlassService {
  constructor(
    private readonly runtime: ContextRuntime,
    private readonly directory: Directory,
    private readonly scheduler: DurableScheduler,
    private readonly options: {
      /** How long a security approver has to review a use before it escalates (ISO 8601; the domain's PT24H when absent). */
      reviewWindow?: string;
      rpcTimeoutMs?: number;
    } = {},
  ) {}

  /** Breaks the glass: recorded, then granted at once. Answers the use, with its grant unless the entitlement service could not be reached (then granted later). */
  async use(input: UseBreakGlassInput, meta: CommandMeta): Promise<BreakGlassAnswer> {
    const entitlement = await this.directory.entitlement(input.entitlement);
    if (!entitlement || entitlement.retired) throw new UnknownEntitlement(input.entitlement);
    const breakGlassId = randomUUID();
    const runMeta = { ...meta, correlationId: meta.correlationId ?? breakGlassId };
    const { events } = await this.runtime.db.transaction(async (tx) => {
      const securityApprovers = await this.directory.securityApprovers(tx);
      return this.run(
        breakGlassId,
        {
          type: 'UseBreakGlass',
          data: {
            breakGlassId,
            identityId: input.identityId,
            entitlement: entitlement.key,
            justification: input.justification,
            ...(input.duration !== undefined && { duration: input.duration }),
            breakGlass: entitlement.breakGlass === true,
            privileged: entitlement.privileged,
            ...(entitlement.maxDuration !== undefined && { maxDuration: entitlement.maxDuration }),
            amr: input.amr,
            securityApprovers,
            ...(this.options.reviewWindow !== undefined && { reviewWindow: this.options.reviewWindow }),
            now: this.now(),
          },
        },
        runMeta,
        tx,
      );
    });
    const used = events.find((event): event is BreakGlassUsed => event.type === 'BreakGlassUsed');
    if (used) {
      try {
        await this.grant(used.data, runMeta);
      } catch (error) {
        // Not reached (no answer, nobody serving): the fulfilment grants it from BreakGlassUsed. A refusal is answered.
        if (!(error instanceof RpcError) || (error.status !== 503 && error.status !== 504)) throw error;
        this.runtime.logger.warn({ err: error, breakGlassId }, 'break-glass grant not answered yet; the fulfilment retries it');
      }
    }
    return this.get(breakGlassId);
  }

  /** Grants a use through the entitlement context and records the grant on it (idempotent: a repeat grants and records nothing new). */
  async grant(used: BreakGlassUsed['data'], meta: CommandMeta): Promise<void> {
    const command: GrantRequestCommand = {
      source: 'break-glass',
      requestId: used.breakGlassId,
      identityId: used.identityId,
      entitlement: used.entitlement,
      reason: used.justification,
      expiresAt: used.expiresAt,
      approvedBy: used.identityId,
    };
    const { grants } = await this.runtime.bus.request<GrantRequestResult>(GRANT_REQUEST_RPC, command, { timeoutMs: this.options.rpcTimeoutMs ?? 10_000 });
    // None held: granted before and ended since (a retry after the answer was lost).
    if (grants.length === 0) return;
    await this.runtime.db.transaction((tx) =>
      this.run(used.breakGlassId, { type: 'RecordBreakGlassFulfilment', data: { breakGlassId: used.breakGlassId, grantId: grants[0].grantId, now: this.now() } }, meta, tx),
    );
  }

  /** A security approver completes the review; a refused attempt (the user, someone else, no mfa on privileged) is recorded, then answered with its 403. */
  async review(
    input: { breakGlassId: string; reviewerId: string; outcome: BreakGlassReviewOutcome; comment: string; amr: readonly string[] },
    meta: CommandMeta,
  ): Promise<BreakGlassAnswer> {
    const { events } = await this.runtime.db.transaction((tx) => this.run(input.breakGlassId, { type: 'ReviewBreakGlass', data: { ...input, now: this.now() } }, meta, tx));
    const refusal = refusalOf(events);
    if (refusal) throw refusal;
    return this.get(input.breakGlassId);
  }

  /** The scheduler's escalation: a review still open goes to the reviewers' managers and the security approvers of now, the user left out. */
  async escalateReview(tx: SqlExecutor, payload: { breakGlassId: string; correlationId?: string }): Promise<void> {
    const { state } = await this.read(payload.breakGlassId, tx);
    if (state.kind !== 'BreakGlassAwaitingReview' || state.escalatedAt !== undefined) return;
    const profiles = await this.directory.profiles(state.use.reviewerIds, tx);
    const managers = [...profiles.values()].map((profile) => profile.managerId).filter((id): id is string => id !== undefined);
    const security = await this.directory.securityApprovers(tx);
    const escalateTo = [...new Set([...managers, ...security])].filter((id) => id !== state.use.identityId);
    await this.run(
      payload.breakGlassId,
      { type: 'EscalateBreakGlassReview', data: { breakGlassId: payload.breakGlassId, escalateTo, now: this.now() } },
      { actor: 'system:escalation', correlationId: payload.correlationId },
      tx,
    );
  }

  async get(breakGlassId: string): Promise<BreakGlassAnswer> {
    const { answer } = await this.read(breakGlassId);
    if (!answer) throw new BreakGlassNotFound(breakGlassId);
    return answer;
  }

  /** Runs one command on a break-glass stream, scheduling the review's escalation when a use is recorded. */
  private async run(breakGlassId: string, command: BreakGlassCommand, meta: CommandMeta, tx: SqlExecutor): Promise<{ events: BreakGlassEvent[]; state: BreakGlassState }> {
    const { events, state } = await handleCommand(this.runtime.store, breakGlassStreamId(breakGlassId), breakGlassDecider, command, meta, tx);
    for (const event of events) {
      if (event.type === 'BreakGlassUsed') {
        await this.scheduler.schedule(tx, {
          key: `escalate-review:${breakGlassId}`,
          kind: ESCALATE_BREAK_GLASS_REVIEW,
          dueAt: new Date(event.data.reviewDueAt),
          payload: { breakGlassId, correlationId: meta.correlationId },
        });
      }
    }
    return { events, state };
  }

  private async read(breakGlassId: string, tx?: SqlExecutor): Promise<{ state: BreakGlassState; answer?: BreakGlassAnswer }> {
    const stored = await this.runtime.store.readStream(breakGlassStreamId(breakGlassId), 1, tx ? { tx } : undefined);
    const events = stored.map((e) => ({ type: e.name, data: e.data }) as BreakGlassEvent);
    return describeBreakGlass(events);
  }

  private now(): string {
    return this.runtime.clock().toISOString();
  }
}

/** The use's state (its decider's fold) and its answer, from its events. */
export function describeBreakGlass(events: readonly BreakGlassEvent[]): { state: BreakGlassState; answer?: BreakGlassAnswer } {
  const state = events.reduce(breakGlassDecider.evolve, breakGlassDecider.initialState());
  if (state.kind === 'NoBreakGlass') return { state };
  const { use } = state;
  const answer: BreakGlassAnswer = {
    breakGlassId: use.breakGlassId,
    status: state.kind === 'BreakGlassReviewed' ? 'reviewed' : 'awaiting-review',
    identityId: use.identityId,
    entitlement: use.entitlement,
    justification: use.justification,
    duration: use.duration,
    expiresAt: use.expiresAt,
    privileged: use.privileged,
    reviewerIds: use.reviewerIds,
    reviewDueAt: use.reviewDueAt,
    usedAt: use.usedAt,
    ...(state.grantId !== undefined && { grantId: state.grantId }),
  };
  const escalated = events.find((event) => event.type === 'BreakGlassReviewEscalated');
  if (escalated?.type === 'BreakGlassReviewEscalated') Object.assign(answer, { escalatedTo: escalated.data.escalatedTo, escalatedAt: escalated.data.escalatedAt });
  if (state.kind === 'BreakGlassReviewed') answer.review = { reviewerId: state.reviewerId, outcome: state.outcome, comment: state.comment, reviewedAt: state.reviewedAt };
  return { state, answer };
}
