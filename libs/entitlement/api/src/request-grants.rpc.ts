import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { AccessService, CatalogView } from '@custos/entitlement/application';
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
import { UnknownReference } from '@custos/entitlement/domain';
import { CONTEXT_RUNTIME, type ContextRuntime } from '@custos/platform/runtime';
import { asRpcError, badPayload } from './rpc-errors';

const text = (value: unknown): value is string => typeof value === 'string' && value.trim() !== '';

/**
 * The door through which the request context has approved access granted, extended and given
 * back: `rpc.entitlement.grant-request`, `rpc.entitlement.extend-request` and
 * `rpc.entitlement.revoke-request`. Each runs the access aggregate's own commands (GrantAccess
 * with source `request` or `break-glass`, ExtendGrant, RevokeAccess by request), so a request's
 * grant obeys every rule an admin grant does, and each is idempotent per request (or break-glass use).
 */
@Controller()
export class RequestGrantsRpc {
  constructor(
    @Inject(CONTEXT_RUNTIME) private readonly runtime: ContextRuntime,
    @Inject(AccessService) private readonly access: AccessService,
    @Inject(CatalogView) private readonly catalog: CatalogView,
  ) {}

  @MessagePattern(GRANT_REQUEST_RPC)
  async grant(@Payload() payload: unknown): Promise<GrantRequestResult> {
    const command = (payload ?? {}) as Partial<GrantRequestCommand>;
    if (!text(command.requestId) || !text(command.identityId) || !text(command.entitlement) || !text(command.reason) || !text(command.approvedBy)) {
      throw badPayload('requestId, identityId, entitlement, reason and approvedBy are required strings');
    }
    if (command.source !== undefined && command.source !== 'request' && command.source !== 'break-glass') throw badPayload('source is request or break-glass');
    // A break-glass grant names no request: its grant ids derive from the use's id.
    const breakGlass = command.source === 'break-glass';
    const commandId = `${breakGlass ? 'break-glass' : 'request'}:${command.requestId}`;
    try {
      await this.catalog.catchUp();
      const entitlement = this.catalog.entitlement(command.entitlement);
      if (!entitlement) throw new UnknownReference([{ kind: 'entitlement', keys: [command.entitlement] }]);
      const now = this.runtime.clock().toISOString();
      const { state } = await this.runtime.db.transaction((tx) =>
        this.access.execute(
          tx,
          {
            type: 'GrantAccess',
            data: {
              identityId: command.identityId!,
              entitlement: command.entitlement!,
              source: breakGlass ? 'break-glass' : 'request',
              ...(!breakGlass && { requestId: command.requestId }),
              reason: command.reason!,
              now,
              ...(command.expiresAt !== undefined && { expiresAt: command.expiresAt }),
              privileged: entitlement.privileged,
              grantedBy: { actor: command.approvedBy!, amr: [] },
              ...(entitlement.maxDuration !== undefined && { maxDuration: entitlement.maxDuration }),
              sodPolicies: this.catalog.sodPolicyViews(),
              ...(command.sodException !== undefined && { sodException: command.sodException }),
              commandId,
            },
          },
          { actor: 'system:request-fulfilment', correlationId: command.requestId },
        ),
      );
      return {
        grants: state.grants
          .filter((grant) => (breakGlass ? grant.source === 'break-glass' && grant.grantId.startsWith(`${commandId}:`) : grant.requestId === command.requestId))
          .map((grant) => ({ grantId: grant.grantId, entitlement: grant.entitlement, ...(grant.expiresAt !== undefined && { expiresAt: grant.expiresAt }) })),
      };
    } catch (error) {
      throw asRpcError(error);
    }
  }

  @MessagePattern(EXTEND_REQUEST_RPC)
  async extend(@Payload() payload: unknown): Promise<ExtendRequestResult> {
    const command = (payload ?? {}) as Partial<ExtendRequestCommand>;
    if (!text(command.requestId) || !text(command.identityId) || !text(command.expiresAt) || !text(command.reason) || !text(command.approvedBy)) {
      throw badPayload('requestId, identityId, expiresAt, reason and approvedBy are required strings');
    }
    if (!Number.isSafeInteger(command.round)) throw badPayload('round is an integer');
    try {
      await this.catalog.catchUp();
      const { state } = await this.runtime.db.transaction((tx) =>
        this.access.extendRequest(
          tx,
          { identityId: command.identityId!, requestId: command.requestId!, round: command.round!, expiresAt: command.expiresAt!, reason: command.reason!, extendedBy: command.approvedBy! },
          { actor: 'system:request-fulfilment', correlationId: command.requestId },
        ),
      );
      return {
        grants: state.grants
          .filter((grant) => grant.requestId === command.requestId)
          .map((grant) => ({ grantId: grant.grantId, entitlement: grant.entitlement, ...(grant.expiresAt !== undefined && { expiresAt: grant.expiresAt }) })),
      };
    } catch (error) {
      throw asRpcError(error);
    }
  }

  @MessagePattern(REVOKE_REQUEST_RPC)
  async revoke(@Payload() payload: unknown): Promise<RevokeRequestResult> {
    const command = (payload ?? {}) as Partial<RevokeRequestCommand>;
    if (!text(command.requestId) || !text(command.identityId)) throw badPayload('requestId and identityId are required strings');
    try {
      const now = this.runtime.clock().toISOString();
      const { events } = await this.runtime.db.transaction((tx) =>
        this.access.execute(
          tx,
          {
            type: 'RevokeAccess',
            data: { identityId: command.identityId!, requestId: command.requestId, reason: 'request-revoked', ...(text(command.detail) && { detail: command.detail }), now },
          },
          { actor: 'system:request-fulfilment', correlationId: command.requestId },
        ),
      );
      return { revokedGrantIds: events.flatMap((event) => (event.type === 'AccessRevoked' ? [event.data.grantId] : [])) };
    } catch (error) {
      throw asRpcError(error);
    }
  }
}
