import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { AccessService, CatalogView } from '@custos/entitlement/application';
import {
  EXPAND_ROLE_RPC,
  EXTEND_REQUEST_RPC,
  GRANT_REQUEST_RPC,
  REVOKE_REQUEST_RPC,
  type ExpandRoleRequest,
  type ExpandRoleResult,
  type ExtendRequestCommand,
  type ExtendRequestResult,
  type GrantRequestCommand,
  type GrantRequestResult,
  type RevokeRequestCommand,
  type RevokeRequestResult,
} from '@custos/entitlement/contracts';
import { expandRole, NotDefined, UnknownReference } from '@custos/entitlement/domain';
import { CONTEXT_RUNTIME, type ContextRuntime } from '@custos/platform/runtime';
import { asRpcError, badPayload } from './rpc-errors';

const text = (value: unknown): value is string => typeof value === 'string' && value.trim() !== '';
/** The most entitlements one role request grants (a role is a catalog thing, not untrusted input, but the payload is). */
const MAX_ROLE_ENTITLEMENTS = 500;

/**
 * The door through which the request context has approved access granted, extended and given
 * back: `rpc.entitlement.grant-request`, `rpc.entitlement.extend-request` and
 * `rpc.entitlement.revoke-request`, and learns what a role gives (`rpc.entitlement.expand-role`). Each runs the access aggregate's own commands (GrantAccess
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

  @MessagePattern(EXPAND_ROLE_RPC)
  async expandRole(@Payload() payload: unknown): Promise<ExpandRoleResult> {
    const { role } = (payload ?? {}) as Partial<ExpandRoleRequest>;
    if (!text(role)) throw badPayload('role is a required string');
    try {
      await this.catalog.catchUp();
      if (!this.catalog.role(role)) throw new NotDefined('role', role);
      return { role, entitlements: expandRole(role, this.catalog.roleCatalog()) };
    } catch (error) {
      throw asRpcError(error);
    }
  }

  @MessagePattern(GRANT_REQUEST_RPC)
  async grant(@Payload() payload: unknown): Promise<GrantRequestResult> {
    const command = (payload ?? {}) as Partial<GrantRequestCommand>;
    if (!text(command.requestId) || !text(command.identityId) || !text(command.reason) || !text(command.approvedBy)) {
      throw badPayload('requestId, identityId, reason and approvedBy are required strings');
    }
    if (command.source !== undefined && command.source !== 'request' && command.source !== 'break-glass') throw badPayload('source is request or break-glass');
    // A break-glass grant names no request: its grant ids derive from the use's id.
    const breakGlass = command.source === 'break-glass';
    const forRole = command.role !== undefined;
    const keys = forRole ? command.entitlements : [command.entitlement];
    const wellFormed = Array.isArray(keys) && keys.length > 0 && keys.length <= MAX_ROLE_ENTITLEMENTS && keys.every(text) && (!forRole || (text(command.role) && command.entitlement === undefined && !breakGlass));
    if (!wellFormed) throw badPayload('give entitlement (a key), or, for a request, role with entitlements (1 to 500 keys)');
    const commandId = `${breakGlass ? 'break-glass' : 'request'}:${command.requestId}`;
    try {
      await this.catalog.catchUp();
      const unknown = keys.filter((key) => !this.catalog.entitlement(key));
      if (unknown.length > 0) throw new UnknownReference([{ kind: 'entitlement', keys: unknown }]);
      const now = this.runtime.clock().toISOString();
      const meta = { actor: 'system:request-fulfilment', correlationId: command.requestId };
      // A role's entitlements in one transaction, each GrantAccess seeing the grants before it (SoD): all or none.
      const outcomes = await this.runtime.db.transaction((tx) =>
        this.access.executeMany(
          tx,
          [...new Set(keys)].map((key) => {
            const entitlement = this.catalog.entitlement(key)!;
            return {
              command: {
                type: 'GrantAccess' as const,
                data: {
                  identityId: command.identityId!,
                  entitlement: key,
                  source: breakGlass ? ('break-glass' as const) : ('request' as const),
                  ...(forRole && { role: command.role }),
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
              meta,
            };
          }),
        ),
      );
      const state = outcomes[outcomes.length - 1].state;
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
