import { Body, Controller, Get, Headers, HttpCode, Inject, Param, Post, Query } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AccessChecks, AccessService, AccessView, SodQueries, UnknownIdentity } from '@custos/entitlement/application';
import { ApiProblemResponses, CurrentPrincipal, Principal, Roles } from '@custos/platform/http';
import { mayAskAbout } from './access-readers';
import { CheckQueryDto, GrantDto, RevokeDto } from './dto';
import { AccessAnswer, CheckResult, GrantOutcome, RevokeOutcome, SodViolations } from './responses';

const WHO_MAY_ASK = 'the identity itself, or a caller with custos:admin, custos:auditor or custos:checker';
const NOT_WHO_MAY_ASK = { status: 403, description: `the caller is not ${WHO_MAY_ASK}` };
const UNKNOWN_IDENTITY = { status: 404, description: 'the entitlement context knows no identity with this id (problem type identity-not-found)' };

@ApiTags('access')
@ApiBearerAuth()
@Controller()
export class AccessController {
  constructor(
    @Inject(AccessService) private readonly access: AccessService,
    @Inject(AccessView) private readonly view: AccessView,
    @Inject(AccessChecks) private readonly checks: AccessChecks,
    @Inject(SodQueries) private readonly sod: SodQueries,
  ) {}

  @Get('access/:identityId')
  @ApiOperation({ summary: `An identity's grants. Who may ask: ${WHO_MAY_ASK}` })
  @ApiOkResponse({ type: AccessAnswer })
  @ApiProblemResponses(401, NOT_WHO_MAY_ASK, UNKNOWN_IDENTITY)
  async getAccess(@Param('identityId') identityId: string, @CurrentPrincipal() principal: Principal) {
    mayAskAbout(principal, identityId);
    // Read-your-writes: a grant or revoke this service accepted a moment ago is in the answer.
    await this.view.catchUp();
    if (!(await this.checks.isKnown(identityId))) throw new UnknownIdentity(identityId);
    const state = this.view.of(identityId);
    return {
      identityId,
      status: state?.status ?? 'active',
      grants: (state?.grants ?? []).map((g) => ({ grantId: g.grantId, entitlement: g.entitlement, source: g.source, role: g.role, ruleKey: g.ruleKey, requestId: g.requestId, grantedAt: g.grantedAt, expiresAt: g.expiresAt, reason: g.reason })),
    };
  }

  @Get('access/:identityId/sod')
  @ApiOperation({ summary: `The SoD policies an identity violates now, whatever created them, with the grants involved and approved exceptions. Who may ask: ${WHO_MAY_ASK}` })
  @ApiOkResponse({ type: SodViolations })
  @ApiProblemResponses(401, NOT_WHO_MAY_ASK, UNKNOWN_IDENTITY)
  async getSodViolations(@Param('identityId') identityId: string, @CurrentPrincipal() principal: Principal) {
    mayAskAbout(principal, identityId);
    if (!(await this.checks.isKnown(identityId))) throw new UnknownIdentity(identityId);
    return { identityId, violations: await this.sod.violations(identityId) };
  }

  @Get('check')
  @ApiOperation({
    summary: `May this identity use this entitlement now? Who may ask: ${WHO_MAY_ASK} (policy-enforcement points). An identity the entitlement context has not heard of is {allowed: false, reason: "unknown-identity"}. Also rpc.entitlement.check on NATS, for services`,
  })
  @ApiOkResponse({ type: CheckResult })
  @ApiProblemResponses({ status: 400, description: 'identityId or entitlement missing' }, 401, NOT_WHO_MAY_ASK)
  check(@Query() q: CheckQueryDto, @CurrentPrincipal() principal: Principal) {
    mayAskAbout(principal, q.identityId);
    return this.checks.check(q.identityId, q.entitlement);
  }

  @Post('access/:identityId/grant')
  @HttpCode(202)
  @Roles('custos:admin')
  @ApiOperation({
    summary:
      'Grant an entitlement directly (source admin), optionally for a limited time (duration at most P10Y). Nobody grants to themselves; a privileged entitlement needs a multi-factor login (mfa in amr); an Idempotency-Key deduplicates per caller',
  })
  @ApiAcceptedResponse({ type: GrantOutcome })
  @ApiProblemResponses(
    { status: 400, description: 'bad input, e.g. a duration that is not an ISO 8601 duration of at most ten years (errors name the field)' },
    401,
    { status: 403, description: 'not an admin; a grant to oneself (self-grant); a privileged entitlement without mfa in amr (step-up-required)' },
    { status: 404, description: 'the identity is not known (identity-not-found)' },
    { status: 409, description: 'the identity is terminated, or the entitlement retired' },
    413,
    415,
    { status: 422, description: 'an unknown entitlement, a duration over its maximum, or a conflict with an SoD policy (sod-violation; sod-exception-required without exceptionReason)' },
  )
  async grant(@Param('identityId') identityId: string, @Body() body: GrantDto, @CurrentPrincipal() principal: Principal, @Headers('idempotency-key') idempotencyKey?: string) {
    const { events } = await this.access.adminGrant({ identityId, ...body, idempotencyKey, amr: principal.amr ?? [] }, { actor: principal.sub });
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
  @ApiAcceptedResponse({ type: RevokeOutcome })
  @ApiProblemResponses(
    400,
    401,
    { status: 403, description: 'the token lacks custos:admin' },
    { status: 404, description: 'the identity holds no such grant (not-held)' },
    { status: 409, description: 'held by birthright: change the rule instead (held-by-birthright)' },
    413,
    415,
  )
  async revoke(@Param('identityId') identityId: string, @Body() body: RevokeDto, @CurrentPrincipal() principal: Principal) {
    const { events } = await this.access.adminRevoke({ identityId, ...body }, { actor: principal.sub });
    return { identityId, entitlement: body.entitlement, revokedGrantIds: events.flatMap((e) => (e.type === 'AccessRevoked' ? [e.data.grantId] : [])) };
  }
}
