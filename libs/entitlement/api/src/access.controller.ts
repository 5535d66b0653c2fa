import { Body, Controller, Get, Headers, HttpCode, Inject, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AccessService, AccessView, SodQueries } from '@custos/entitlement/application';
import { CurrentPrincipal, forbidden, Principal, Roles } from '@custos/platform/http';
import { CONTEXT_RUNTIME, ContextRuntime } from '@custos/platform/runtime';
import { CheckQueryDto, GrantDto, RevokeDto } from './dto';

const ACCESS_READERS = ['custos:admin', 'custos:auditor'];

/** Anyone may read their own access; admins and auditors anyone's. */
function mayRead(principal: Principal, identityId: string): void {
  if (principal.sub !== identityId && !principal.roles.some((r) => ACCESS_READERS.includes(r))) throw forbidden('you may read only your own access');
}

@ApiTags('access')
@ApiBearerAuth()
@Controller()
export class AccessController {
  constructor(
    @Inject(AccessService) private readonly access: AccessService,
    @Inject(AccessView) private readonly view: AccessView,
    @Inject(CONTEXT_RUNTIME) private readonly runtime: ContextRuntime,
    @Inject(SodQueries) private readonly sod: SodQueries,
  ) {}

  @Get('access/:identityId')
  @ApiOperation({ summary: "An identity's grants (yourself, or any with admin or auditor roles)" })
  async getAccess(@Param('identityId') identityId: string, @CurrentPrincipal() principal: Principal) {
    mayRead(principal, identityId);
    // Read-your-writes: a grant or revoke this service accepted a moment ago is in the answer.
    await this.view.catchUp();
    const state = this.view.of(identityId);
    return {
      identityId,
      status: state?.status ?? 'active',
      grants: (state?.grants ?? []).map((g) => ({ grantId: g.grantId, entitlement: g.entitlement, source: g.source, role: g.role, ruleKey: g.ruleKey, requestId: g.requestId, grantedAt: g.grantedAt, expiresAt: g.expiresAt, reason: g.reason })),
    };
  }

  @Get('access/:identityId/sod')
  @ApiOperation({ summary: "The SoD policies an identity violates now, whatever created them, with the grants involved and approved exceptions" })
  async getSodViolations(@Param('identityId') identityId: string, @CurrentPrincipal() principal: Principal) {
    mayRead(principal, identityId);
    return { identityId, violations: await this.sod.violations(identityId) };
  }

  @Get('check')
  @ApiOperation({ summary: 'May this identity use this entitlement now? (also rpc.entitlement.check on NATS)' })
  check(@Query() q: CheckQueryDto) {
    return this.view.check(q.identityId, q.entitlement, this.runtime.clock());
  }

  @Post('access/:identityId/grant')
  @HttpCode(202)
  @Roles('custos:admin')
  @ApiOperation({ summary: 'Grant an entitlement directly (source admin), optionally for a limited time' })
  async grant(@Param('identityId') identityId: string, @Body() body: GrantDto, @CurrentPrincipal() principal: Principal, @Headers('idempotency-key') idempotencyKey?: string) {
    const { events } = await this.access.adminGrant({ identityId, ...body, idempotencyKey }, { actor: principal.sub });
    const granted = events.find((e) => e.type === 'AccessGranted');
    const exception = events.find((e) => e.type === 'SodExceptionRecorded');
    return {
      identityId,
      entitlement: body.entitlement,
      status: granted ? 'granted' : 'unchanged',
      grantId: granted?.type === 'AccessGranted' ? granted.data.grantId : undefined,
      sodException:
        exception?.type === 'SodExceptionRecorded'
          ? { conflicts: exception.data.conflicts, reason: exception.data.reason, approvedBy: exception.data.approvedBy, recordedAt: exception.data.recordedAt }
          : undefined,
    };
  }

  @Post('access/:identityId/revoke')
  @HttpCode(202)
  @Roles('custos:admin')
  @ApiOperation({ summary: 'Revoke an entitlement held by request, break-glass or admin grant' })
  async revoke(@Param('identityId') identityId: string, @Body() body: RevokeDto, @CurrentPrincipal() principal: Principal) {
    const { events } = await this.access.adminRevoke({ identityId, ...body }, { actor: principal.sub });
    return { identityId, entitlement: body.entitlement, revokedGrantIds: events.flatMap((e) => (e.type === 'AccessRevoked' ? [e.data.grantId] : [])) };
  }
}
