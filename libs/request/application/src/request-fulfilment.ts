import {
  EXTEND_REQUEST_RPC,
  GRANT_REQUEST_RPC,
  REVOKE_REQUEST_RPC,
  type ExtendRequestCommand,
  type ExtendRequestResult,
  type GrantRequestCommand,
  type GrantRequestResult,
  type RevokeRequestCommand,
  type RevokeRequestResult,
} from '@custos/entitlement/contracts';
import type { CustosEvent, SqlExecutor } from '@custos/platform/event-store';
import { RpcError } from '@custos/platform/messaging';
import type { ContextRuntime, Inbox } from '@custos/platform/runtime';
import type { AccessRevokedEarly, BreakGlassUsed, ExtensionApproved, RequestApproved } from '@custos/request/contracts';
import type { BreakGlassService } from './break-glass-service';
import type { Directory } from './read-models/directory/directory';
import type { RequestService } from './request-service';

/** Durable consumer names of the request context on the bus. */
export const FULFILMENT_CONSUMER = 'request-fulfilment';
export const ENTITLEMENT_EVENTS_CONSUMER = 'request-entitlement-events';
export const IDENTITY_EVENTS_CONSUMER = 'request-identity-events';
/** Reads the access events from the beginning of the entitlement stream into the directory's copy of who holds what. */
export const ACCESS_DIRECTORY_CONSUMER = 'request-access-directory';
/** The entitlement events that copy is made of. */
export const ACCESS_DIRECTORY_EVENTS = ['AccessGranted', 'AccessExtended', 'AccessRevoked'] as const;

/** The request's own events the fulfilment acts on. */
export const FULFILMENT_EVENTS = ['RequestApproved', 'ExtensionApproved', 'AccessRevokedEarly', 'BreakGlassUsed'] as const;

/** A grant ended before the request recorded its fulfilment (a very short grant): the end is retried once the fulfilment is in. */
export class FulfilmentNotYetRecorded extends Error {
  constructor(readonly requestId: string) {
    super(`request ${requestId} has not recorded its grant yet; its end is retried`);
  }
}

/**
 * The process manager between requests and access:
 * - RequestApproved: asks the entitlement context to grant (`rpc.entitlement.grant-request`,
 *   idempotent per request) and records the grants it answers as the request's fulfilment, or
 *   its refusal (a rule of the entitlement context: FulfilmentRefused, never retried); only a
 *   transport failure (no answer, nobody serving, a server error) is retried by redelivery;
 * - ExtensionApproved: asks it to extend the request's grants to the round's end
 *   (`rpc.entitlement.extend-request`, idempotent) and records them, with their new end, as the
 *   round's fulfilment, or its refusal (the grants ended meanwhile, a cap...), as for an approval;
 * - AccessRevokedEarly: asks it to revoke the request's grants (`rpc.entitlement.revoke-request`);
 * - BreakGlassUsed: grants the use (source `break-glass`) unless its immediate grant is recorded already;
 * - AccessRevoked of a request's grant (it expired, or was revoked by anyone): RecordGrantEnded;
 * - the other contexts' events keep the directory (managers, owners, security approvers, and on
 *   a consumer of their own from the stream's start, the grants each identity holds) current.
 * Entitlement events are claimed in the inbox in the same transaction as their effect; the
 * request's own events need none: granting, revoking and recording are idempotent per request.
 */
export class RequestFulfilment {
  constructor(
    private readonly runtime: ContextRuntime,
    private readonly inbox: Inbox,
    private readonly directory: Directory,
    private readonly requests: RequestService,
    private readonly breakGlass?: BreakGlassService,
    private readonly rpcTimeoutMs = 10_000,
  ) {}

  /** A request event of FULFILMENT_EVENTS: grant or revoke in the entitlement context. No transaction is held while it asks. */
  async onRequestEvent(stored: CustosEvent): Promise<void> {
    const meta = { actor: 'system:request-fulfilment', correlationId: stored.correlationid, causationId: stored.id };
    if (stored.name === 'RequestApproved') {
      const approved = stored.data as RequestApproved['data'];
      const { answer } = await this.requests.get(approved.requestId);
      const approvals = answer.steps.flatMap((step) => step.decisions).filter((decision) => decision.decision === 'approve');
      // A role request grants the entitlements its approvers saw, each with the role on it.
      const target: Pick<GrantRequestCommand, 'entitlement' | 'role' | 'entitlements'> =
        approved.target.kind === 'role' ? { role: approved.target.key, entitlements: answer.entitlements ?? [] } : { entitlement: approved.target.key };
      const command: GrantRequestCommand = {
        requestId: approved.requestId,
        identityId: approved.beneficiaryId,
        ...target,
        reason: approved.justification,
        ...(approved.expiresAt !== undefined && { expiresAt: approved.expiresAt }),
        ...(approved.sodException !== undefined && { sodException: { reason: approved.sodException.reason, approvedBy: approved.sodException.approvedBy } }),
        approvedBy: approvals[approvals.length - 1]?.approverId ?? meta.actor,
      };
      let grants: GrantRequestResult['grants'];
      try {
        ({ grants } = await this.runtime.bus.request<GrantRequestResult>(GRANT_REQUEST_RPC, command, { timeoutMs: this.rpcTimeoutMs }));
      } catch (error) {
        const refusal = domainRefusalOf(error);
        // A transport failure (no answer, nobody serving, a crash) is retried by redelivery; a refusal would only be refused again.
        if (!refusal) throw error;
        await this.requests.run(approved.requestId, { type: 'RecordFulfilmentRefused', data: { requestId: approved.requestId, round: 0, ...refusal, now: this.now() } }, meta);
        return;
      }
      // None held: granted before and ended since (a retry after the answer was lost); its end is recorded from AccessRevoked.
      if (grants.length === 0) return;
      await this.requests.run(approved.requestId, { type: 'RecordFulfilment', data: { requestId: approved.requestId, round: 0, grants, now: this.now() } }, meta);
    } else if (stored.name === 'ExtensionApproved') {
      const approved = stored.data as ExtensionApproved['data'];
      const { state } = await this.requests.get(approved.requestId);
      // A redelivery after the round was fulfilled or refused (or the access ended) has nothing left to ask.
      if (state.kind !== 'FulfilledRequest' || state.extension?.status !== 'approved' || state.extension.round.round !== approved.round) return;
      const approvals = state.extension.round.decisions.filter((decision) => decision.decision === 'approve');
      const command: ExtendRequestCommand = {
        requestId: approved.requestId,
        identityId: approved.beneficiaryId,
        round: approved.round,
        expiresAt: approved.expiresAt,
        reason: approved.justification,
        approvedBy: approvals[approvals.length - 1]?.approverId ?? meta.actor,
      };
      let grants: ExtendRequestResult['grants'];
      try {
        ({ grants } = await this.runtime.bus.request<ExtendRequestResult>(EXTEND_REQUEST_RPC, command, { timeoutMs: this.rpcTimeoutMs }));
      } catch (error) {
        const refusal = domainRefusalOf(error);
        if (!refusal) throw error;
        await this.requests.run(approved.requestId, { type: 'RecordFulfilmentRefused', data: { requestId: approved.requestId, round: approved.round, ...refusal, now: this.now() } }, meta);
        return;
      }
      if (grants.length === 0) return;
      await this.requests.run(approved.requestId, { type: 'RecordFulfilment', data: { requestId: approved.requestId, round: approved.round, grants, now: this.now() } }, meta);
    } else if (stored.name === 'BreakGlassUsed' && this.breakGlass) {
      const used = stored.data as BreakGlassUsed['data'];
      if ((await this.breakGlass.get(used.breakGlassId)).grantId !== undefined) return;
      try {
        await this.breakGlass.grant(used, meta);
      } catch (error) {
        const refusal = domainRefusalOf(error);
        if (!refusal) throw error;
        // Nothing to retry: the use stays recorded for its review, without a grant.
        this.runtime.logger.warn({ breakGlassId: used.breakGlassId, ...refusal }, 'the entitlement service refused a break-glass grant');
      }
    } else if (stored.name === 'AccessRevokedEarly') {
      const revoked = stored.data as AccessRevokedEarly['data'];
      const command: RevokeRequestCommand = { requestId: revoked.requestId, identityId: revoked.beneficiaryId, ...(revoked.reason !== undefined && { detail: revoked.reason }) };
      await this.runtime.bus.request<RevokeRequestResult>(REVOKE_REQUEST_RPC, command, { timeoutMs: this.rpcTimeoutMs });
    }
  }

  /** An entitlement event: the directory learns from it, and the end of a request's grant is recorded on the request. */
  async onEntitlementEvent(stored: CustosEvent): Promise<void> {
    await this.runtime.db.transaction(async (tx) => {
      if (!(await this.inbox.claim(tx, ENTITLEMENT_EVENTS_CONSUMER, stored.id))) return;
      const { ended } = await this.directory.recordEntitlementEvent(tx, stored);
      if (ended) await this.recordGrantEnded(tx, stored, ended);
    });
  }

  /** An access event: the directory's copy of the grants each identity holds follows it (idempotent upserts, no inbox needed). */
  async onAccessEvent(stored: CustosEvent): Promise<void> {
    await this.runtime.db.transaction((tx) => this.directory.recordAccessEvent(tx, stored));
  }

  /** An identity event: the directory keeps the identity's newest profile (manager, names, status). */
  async onIdentityEvent(stored: CustosEvent): Promise<void> {
    await this.runtime.db.transaction((tx) => this.directory.recordIdentityEvent(tx, stored));
  }

  private async recordGrantEnded(tx: SqlExecutor, stored: CustosEvent, ended: { requestId: string; grantId: string; reason: string }): Promise<void> {
    const meta = { actor: 'system:request-fulfilment', correlationId: stored.correlationid, causationId: stored.id };
    const { state } = await this.requests.run(
      ended.requestId,
      { type: 'RecordGrantEnded', data: { requestId: ended.requestId, grantId: ended.grantId, reason: ended.reason === 'expired' ? 'expired' : 'revoked', now: this.now() } },
      meta,
      tx,
    );
    // Not fulfilled yet: the end would be lost; throwing rolls the claim back and the bus redelivers it.
    if (state.kind === 'ApprovedRequest') throw new FulfilmentNotYetRecorded(ended.requestId);
  }

  private now(): string {
    return this.runtime.clock().toISOString();
  }
}

/**
 * domainRefusalOf: the entitlement context's refusal of a command (an RpcError with a 4xx status,
 * which its edge gives domain and validation errors), as the code and reason to record; undefined
 * for what may pass when retried (no answer 504, nobody serving 503, a server error 5xx, 408, 429).
 */
export function domainRefusalOf(error: unknown): { code: string; reason: string } | undefined {
  if (!(error instanceof RpcError) || error.status < 400 || error.status >= 500 || error.status === 408 || error.status === 429) return undefined;
  const code = (error.details as { code?: unknown } | undefined)?.code;
  return { code: typeof code === 'string' && code.trim() !== '' ? code : `status-${error.status}`, reason: error.message || `refused with status ${error.status}` };
}
