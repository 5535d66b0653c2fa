import { randomUUID } from 'node:crypto';
import { EVALUATE_SOD_RPC, EXPAND_ROLE_RPC, type EvaluateSodRequest, type EvaluateSodResult, type ExpandRoleRequest, type ExpandRoleResult } from '@custos/entitlement/contracts';
import type { SqlExecutor } from '@custos/platform/event-store';
import { RpcError } from '@custos/platform/messaging';
import { handleCommand, type CommandMeta, type ContextRuntime, type DurableScheduler, type ScheduledJob } from '@custos/platform/runtime';
import { requestStreamId, type RequestEvent, type RequestTarget } from '@custos/request/contracts';
import { pendingRound, refusalOf, requestDecider, RequestNotFound, roleFacts, type RequestCommand, type RequestState, type ResolvedApprovers } from '@custos/request/domain';
import { NotAllowedToRequest, UnknownBeneficiary, UnknownEntitlement, UnknownRole } from './errors';
import type { DelegationsView } from './read-models/delegations/delegations-view';
import type { CatalogEntitlement, Directory } from './read-models/directory/directory';
import { describeRequest, type RequestAnswer } from './request-answer';

/** Scheduled job kinds of the request context. */
export const ESCALATE_REQUEST = 'escalate-request';
export const EXPIRE_REQUEST = 'expire-request';

export interface SubmitInput {
  requesterId: string;
  beneficiaryId?: string;
  target: RequestTarget;
  justification: string;
  duration?: string;
  /** Whether the requester may raise requests for anyone (custos:admin). */
  mayRequestForAnyone?: boolean;
}

export interface DecideInput {
  requestId: string;
  approverId: string;
  decision: 'approve' | 'deny';
  comment?: string;
  exceptionJustification?: string;
  amr: readonly string[];
}

/** What a command did to a request: its events and the request as GET answers it now. */
export interface RequestOutcome {
  events: RequestEvent[];
  state: RequestState;
  answer: RequestAnswer;
}

/**
 * RequestService runs the request aggregate's commands. It resolves what the rules need before
 * deciding (the approvers of each kind from the directory, the SoD answer from the entitlement
 * context), appends in one transaction with the scheduler's jobs for each opened step (its
 * escalation and its expiry), and answers a recorded refusal with its 403 after appending it.
 */
export class RequestService {
  constructor(
    private readonly runtime: ContextRuntime,
    private readonly directory: Directory,
    private readonly scheduler: DurableScheduler,
    /** Where the delegations naming a deciding identity as delegate come from; without it, approvers decide for themselves only. */
    private readonly delegations?: Pick<DelegationsView, 'caughtUp' | 'inForceFor'>,
    private readonly sodTimeoutMs = 5_000,
  ) {}

  /**
   * Raises a request for an entitlement or a role: the beneficiary must be active and the caller
   * them, their manager or an administrator; a role is asked of the entitlement context for what
   * it gives now; the approvers of now and the SoD answer go to the decider, which routes it.
   */
  async submit(input: SubmitInput, meta: CommandMeta): Promise<RequestOutcome> {
    const beneficiaryId = input.beneficiaryId ?? input.requesterId;
    const beneficiary = await this.directory.profile(beneficiaryId);
    if (beneficiaryId !== input.requesterId && !input.mayRequestForAnyone && beneficiary?.managerId !== input.requesterId) {
      throw new NotAllowedToRequest(input.requesterId, beneficiaryId);
    }
    if (!beneficiary) throw new UnknownBeneficiary(beneficiaryId);
    if (beneficiary.status !== 'active') throw new UnknownBeneficiary(beneficiaryId, beneficiary.status);
    const forRole = input.target.kind === 'role';
    const entitlements = await this.catalogEntitlements(forRole ? await this.roleEntitlements(input.target.key) : [input.target.key]);
    const owners = [...new Set(entitlements.flatMap((entitlement) => (entitlement.ownerId !== undefined ? [entitlement.ownerId] : [])))];
    const approvers = await this.resolveApprovers(beneficiary.managerId, owners);
    const now = this.now();
    // A role is decided as strictly as its strictest entitlement (roleFacts); an entitlement by its own facts.
    const facts = forRole ? roleFacts(entitlements, approvers.inactive ?? [], now) : entitlements[0];
    const sod = await this.runtime.bus.request<EvaluateSodResult>(
      EVALUATE_SOD_RPC,
      { identityId: beneficiaryId, entitlements: entitlements.map((entitlement) => entitlement.key) } satisfies EvaluateSodRequest,
      { timeoutMs: this.sodTimeoutMs },
    );
    const requestId = randomUUID();
    return this.run(
      requestId,
      {
        type: 'SubmitRequest',
        data: {
          requestId,
          requesterId: input.requesterId,
          beneficiaryId,
          target: { kind: input.target.kind, key: input.target.key },
          ...(forRole && { entitlements: entitlements.map((entitlement) => entitlement.key) }),
          justification: input.justification,
          ...(input.duration !== undefined && { duration: input.duration }),
          privileged: facts.privileged,
          ...(facts.maxDuration !== undefined && { maxDuration: facts.maxDuration }),
          ...(facts.approvalSla !== undefined && { approvalSla: facts.approvalSla }),
          approvalPolicy: facts.approvalPolicy,
          approvers,
          sod: { outcome: sod.outcome, violations: sod.violations },
          now,
        },
      },
      { ...meta, correlationId: meta.correlationId ?? requestId },
    );
  }

  /**
   * Approve or deny the current step; a refused attempt is recorded, then answered with its 403.
   * The delegations in force naming the approver as delegate go with the decision: the decider
   * lets them decide in a delegator's place, and refuses one through a party of the request.
   */
  async decide(input: DecideInput, meta: CommandMeta): Promise<RequestOutcome> {
    await this.delegations?.caughtUp();
    const delegations = (await this.delegations?.inForceFor(input.approverId, this.runtime.clock())) ?? [];
    // A step's approvers are those of when it opens: resolved now, in case this decision opens the next one.
    const approvers = await this.approversForNextStep((await this.read(input.requestId)).state);
    const outcome = await this.run(input.requestId, {
      type: 'DecideRequest',
      data: {
        requestId: input.requestId,
        approverId: input.approverId,
        decision: input.decision,
        ...(input.comment !== undefined && { comment: input.comment }),
        ...(input.exceptionJustification !== undefined && { exceptionJustification: input.exceptionJustification }),
        amr: input.amr,
        delegations,
        ...(approvers !== undefined && { approvers }),
        now: this.now(),
      },
    }, meta);
    const refusal = refusalOf(outcome.events);
    if (refusal) throw refusal;
    return outcome;
  }

  async cancel(input: { requestId: string; cancelledBy: string; reason?: string }, meta: CommandMeta): Promise<RequestOutcome> {
    return this.run(input.requestId, { type: 'CancelRequest', data: { ...input, now: this.now() } }, meta);
  }

  /** The beneficiary gives the access back: the fulfilment revokes its grants. */
  async revokeEarly(input: { requestId: string; revokedBy: string; reason?: string }, meta: CommandMeta): Promise<RequestOutcome> {
    return this.run(input.requestId, { type: 'RevokeEarly', data: { ...input, now: this.now() } }, meta);
  }

  /**
   * The beneficiary asks for more time on access in force: a new round through the request's
   * steps, their approvers resolved again now (the beneficiary's manager and the entitlement's
   * owner of today), decided like the request itself.
   */
  async extend(input: { requestId: string; requestedBy: string; duration: string; justification: string }, meta: CommandMeta): Promise<RequestOutcome> {
    const { state } = await this.read(input.requestId);
    if (state.kind === 'NoRequest') throw new RequestNotFound(input.requestId);
    const { request } = state;
    // Not the beneficiary: the decider refuses before it looks at approvers; nobody else's are resolved for them.
    const approvers: ResolvedApprovers = input.requestedBy === request.beneficiaryId ? await this.approversNow(request) : { manager: [], owner: [], security: [] };
    return this.run(input.requestId, { type: 'RequestExtension', data: { ...input, approvers, now: this.now() } }, meta);
  }

  /** The request as GET answers it, read from its stream (read-your-writes); RequestNotFound when there is none. */
  async get(requestId: string): Promise<{ state: RequestState; answer: RequestAnswer }> {
    const { state, answer } = await this.read(requestId);
    if (!answer) throw new RequestNotFound(requestId);
    return { state, answer };
  }

  /**
   * Runs one command on a request stream inside `tx` (or a transaction of its own), with the
   * scheduler's jobs for the steps it opened: one transaction, so a step never lacks its due jobs.
   */
  async run(requestId: string, command: RequestCommand, meta: CommandMeta, tx?: SqlExecutor): Promise<RequestOutcome> {
    const work = async (x: SqlExecutor): Promise<RequestOutcome> => {
      const { events, state } = await handleCommand(this.runtime.store, requestStreamId(requestId), requestDecider, command, meta, x);
      await this.followDueTimes(x, requestId, events, meta);
      // Read back in the same transaction: the embedded store has one connection.
      const { answer } = await this.read(requestId, x);
      return { events, state, answer: answer! };
    };
    return tx ? work(tx) : this.runtime.db.transaction(work);
  }

  private async read(requestId: string, tx?: SqlExecutor): Promise<{ state: RequestState; answer?: RequestAnswer }> {
    const stored = await this.runtime.store.readStream(requestStreamId(requestId), 1, tx ? { tx } : undefined);
    return describeRequest(stored.map((e) => ({ type: e.name, data: e.data }) as RequestEvent));
  }

  /** The approvers of each kind for a request now: the beneficiary's manager and the owners of what it asks for, as the directory knows them today. */
  private async approversNow(request: { beneficiaryId: string; target: RequestTarget; entitlements?: string[] }): Promise<ResolvedApprovers> {
    const entitlements = await this.directory.entitlements(request.entitlements ?? [request.target.key]);
    const owners = [...new Set(entitlements.flatMap((entitlement) => (entitlement.ownerId !== undefined ? [entitlement.ownerId] : [])))];
    return this.resolveApprovers((await this.directory.profile(request.beneficiaryId))?.managerId, owners);
  }

  /** The approvers of now when a decision may open another step of the pending round (not on its last step, nor on a request not pending). */
  private async approversForNextStep(state: RequestState): Promise<ResolvedApprovers | undefined> {
    const round = pendingRound(state);
    if (!round || state.kind === 'NoRequest' || round.step >= round.steps.length - 1) return undefined;
    return this.approversNow(state.request);
  }

  /** The entitlements a role gives now, from the entitlement context; UnknownRole for an unknown, retired or empty one. */
  private async roleEntitlements(role: string): Promise<string[]> {
    try {
      const { entitlements } = await this.runtime.bus.request<ExpandRoleResult>(EXPAND_ROLE_RPC, { role } satisfies ExpandRoleRequest, { timeoutMs: this.sodTimeoutMs });
      if (entitlements.length === 0) throw new UnknownRole(role, true);
      return entitlements;
    } catch (error) {
      if (error instanceof RpcError && error.status === 404) throw new UnknownRole(role);
      throw error;
    }
  }

  /** The catalog's facts of each key, as the request context has heard them; UnknownEntitlement naming the first unknown or retired one. */
  private async catalogEntitlements(keys: readonly string[]): Promise<CatalogEntitlement[]> {
    const found = await this.directory.entitlements(keys);
    const unknown = keys.find((key) => !found.some((entitlement) => entitlement.key === key));
    if (unknown !== undefined) throw new UnknownEntitlement(unknown);
    return found;
  }

  /** The approvers of each step kind for a beneficiary's manager and the entitlements' owners, with those who can no longer decide. */
  async resolveApprovers(managerId: string | undefined, ownerIds: readonly string[], x?: SqlExecutor): Promise<ResolvedApprovers> {
    const security = await this.directory.securityApprovers(x);
    const candidates = [managerId, ...ownerIds, ...security].filter((id): id is string => id !== undefined);
    const profiles = await this.directory.profiles(candidates, x);
    // An id the directory has not heard of is kept: it may be an identity whose events are late.
    const inactive = candidates.filter((id) => profiles.has(id) && profiles.get(id)!.status !== 'active');
    return { manager: managerId ? [managerId] : [], owner: [...ownerIds], security, inactive: [...new Set(inactive)] };
  }

  /** Each opened step escalates and expires by the scheduler; an escalation moves the round's expiry with it. */
  private async followDueTimes(tx: SqlExecutor, requestId: string, events: RequestEvent[], meta: CommandMeta): Promise<void> {
    const jobs: ScheduledJob[] = [];
    for (const event of events) {
      if (event.type === 'ApprovalRequested') {
        const { round, step, escalationDueAt, expiryDueAt } = event.data;
        jobs.push({ key: `escalate:${requestId}:${round}:${step}`, kind: ESCALATE_REQUEST, dueAt: new Date(escalationDueAt), payload: { requestId, round, step, correlationId: meta.correlationId } });
        jobs.push({ key: `expire:${requestId}:${round}`, kind: EXPIRE_REQUEST, dueAt: new Date(expiryDueAt), payload: { requestId, round, correlationId: meta.correlationId } });
      } else if (event.type === 'RequestEscalated') {
        const { round, expiryDueAt } = event.data;
        jobs.push({ key: `expire:${requestId}:${round}`, kind: EXPIRE_REQUEST, dueAt: new Date(expiryDueAt), payload: { requestId, round, correlationId: meta.correlationId } });
      }
    }
    await this.scheduler.scheduleMany(tx, jobs);
  }

  /** The scheduler's escalation: the step's approvers' managers may decide it too (a job for a step that moved on does nothing). */
  async escalate(tx: SqlExecutor, payload: { requestId: string; round: number; step: number; correlationId?: string }): Promise<void> {
    const { state } = await this.read(payload.requestId, tx);
    const round = state.kind === 'PendingRequest' ? state.round : state.kind === 'FulfilledRequest' && state.extension?.status === 'pending' ? state.extension.round : undefined;
    if (!round || round.round !== payload.round || round.step !== payload.step) return;
    const profiles = await this.directory.profiles(round.steps[round.step].approverIds, tx);
    const escalateTo = [...new Set([...profiles.values()].map((p) => p.managerId).filter((id): id is string => id !== undefined))];
    const meta = { actor: 'system:escalation', correlationId: payload.correlationId };
    await this.run(payload.requestId, { type: 'EscalateRequest', data: { requestId: payload.requestId, round: payload.round, step: payload.step, escalateTo, now: this.now() } }, meta, tx);
  }

  /** The scheduler's expiry: a round still pending past its second SLA closes. */
  async expire(tx: SqlExecutor, payload: { requestId: string; round: number; correlationId?: string }): Promise<void> {
    const meta = { actor: 'system:expiry', correlationId: payload.correlationId };
    await this.run(payload.requestId, { type: 'ExpireRequest', data: { requestId: payload.requestId, round: payload.round, now: this.now() } }, meta, tx);
  }

  private now(): string {
    return this.runtime.clock().toISOString();
  }
}
