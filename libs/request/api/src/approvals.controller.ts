import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiProblemResponses, CurrentPrincipal, Principal } from '@custos/platform/http';
import { DelegationService, DelegationsView, Directory, RequestsView, type IdentityProfile, type PendingApproval } from '@custos/request/application';
import { CONTEXT_RUNTIME, type ContextRuntime } from '@custos/platform/runtime';
import { GrantDelegationDto } from './dto';
import { ApprovalInbox, DelegationAnswerDoc, DelegationList } from './responses';

const nameOf = (profile?: IdentityProfile) => (profile ? [profile.givenName, profile.familyName].filter(Boolean).join(' ') || undefined : undefined);

/** Who someone is to an approver: name, title, department, and their manager by id and name. */
const person = (identityId: string, profiles: ReadonlyMap<string, IdentityProfile>) => {
  const profile = profiles.get(identityId);
  return {
    identityId,
    ...(profile && {
      name: nameOf(profile),
      email: profile.email,
      title: profile.title,
      department: profile.department,
      managerId: profile.managerId,
      ...(profile.managerId !== undefined && { managerName: nameOf(profiles.get(profile.managerId)) }),
    }),
  };
};

const RISKS = ['low', 'medium', 'high', 'critical'];

/** The highest of the risks of a role's entitlements (what an approver of the whole role takes on). */
function highestRisk(risks: readonly string[]): string | undefined {
  return risks.reduce<string | undefined>((top, risk) => (top === undefined || RISKS.indexOf(risk) > RISKS.indexOf(top) ? risk : top), undefined);
}

@ApiTags('requests')
@ApiBearerAuth()
@Controller('approvals')
export class ApprovalsController {
  constructor(
    @Inject(CONTEXT_RUNTIME) private readonly runtime: ContextRuntime,
    @Inject(RequestsView) private readonly view: RequestsView,
    @Inject(Directory) private readonly directory: Directory,
    @Inject(DelegationsView) private readonly delegationsView: DelegationsView,
    @Inject(DelegationService) private readonly delegations: DelegationService,
  ) {}

  @Get()
  @ApiOperation({
    summary:
      'The caller\'s inbox: the requests (and extensions of requests, marked round and extension) whose open step the caller may decide now (their own, and those of approvers who delegated to them for now, marked onBehalfOf), longest waiting first, with what deciding needs (requester, beneficiary, the beneficiary\'s current access, entitlement, justification, duration, SoD conflicts, wait and SLA)',
  })
  @ApiOkResponse({ type: ApprovalInbox })
  @ApiProblemResponses(401)
  async inbox(@CurrentPrincipal() principal: Principal) {
    await Promise.all([this.view.caughtUp(), this.delegationsView.caughtUp()]);
    const own: Array<PendingApproval & { onBehalfOf?: string }> = await this.view.pendingFor(principal.sub);
    const seen = new Set(own.map(({ request }) => request.requestId));
    const delegated: Array<PendingApproval & { onBehalfOf?: string }> = [];
    for (const delegation of await this.delegationsView.inForceFor(principal.sub, this.runtime.clock())) {
      for (const item of await this.view.pendingFor(delegation.approverId)) {
        // A delegate never decides a request they raised or that benefits them: it is not theirs to see here.
        if (seen.has(item.request.requestId) || [item.request.requesterId, item.request.beneficiaryId].includes(principal.sub)) continue;
        seen.add(item.request.requestId);
        delegated.push({ ...item, onBehalfOf: delegation.approverId });
      }
    }
    const pending = [...own, ...delegated].sort((a, b) => Date.parse(a.since) - Date.parse(b.since));
    const parties = await this.directory.profiles(pending.flatMap(({ request }) => [request.requesterId, request.beneficiaryId]));
    const managers = await this.directory.profiles([...parties.values()].flatMap((profile) => (profile.managerId !== undefined ? [profile.managerId] : [])));
    const profiles = new Map([...managers, ...parties]);
    const clock = this.runtime.clock();
    const access = await this.directory.currentAccess(pending.map(({ request }) => request.beneficiaryId), clock);
    const now = clock.getTime();
    const items = [];
    for (const { request, round, step, since, onBehalfOf } of pending) {
      const entitlement = request.target.kind === 'role' ? undefined : await this.directory.entitlement(request.target.key);
      const ofRole = request.target.kind === 'role' ? await this.directory.entitlements(request.entitlements ?? []) : [];
      const extension = round > 0 ? request.extensions?.find((candidate) => candidate.round === round) : undefined;
      const open = (extension?.steps ?? request.steps)[step];
      if (!open) continue;
      items.push({
        requestId: request.requestId,
        requester: person(request.requesterId, profiles),
        beneficiary: person(request.beneficiaryId, profiles),
        beneficiaryAccess: access.get(request.beneficiaryId) ?? [],
        entitlement:
          request.target.kind === 'role'
            ? { kind: 'role', key: request.target.key, risk: highestRisk(ofRole.map((e) => e.risk)), privileged: request.privileged, entitlements: request.entitlements ?? [] }
            : { kind: 'entitlement', key: request.target.key, name: entitlement?.name, risk: entitlement?.risk, privileged: request.privileged },
        justification: request.justification,
        ...(request.duration !== undefined && { duration: request.duration }),
        ...(onBehalfOf !== undefined && { onBehalfOf }),
        round,
        ...(extension && {
          extension: {
            round,
            duration: extension.duration,
            justification: extension.justification,
            requestedAt: extension.requestedAt,
            ...(request.expiresAt !== undefined && { currentExpiresAt: request.expiresAt }),
          },
        }),
        step,
        stepKind: open.kind,
        sodConflicts: open.sodConflicts ?? [],
        waitingSince: since,
        waitedSeconds: Math.max(0, Math.floor((now - Date.parse(since)) / 1000)),
        sla: request.approvalSla,
        ...(open.escalationDueAt !== undefined && { escalationDueAt: open.escalationDueAt }),
        request,
      });
    }
    return { items };
  }

  @Post('delegations')
  @ApiOperation({
    summary:
      'Hand the caller\'s approvals to someone else while away: from `from` (default now) until `until`, the delegate may decide in the caller\'s place, one delegate at a time. Nobody decides a request they raised or benefit from through a delegation either',
  })
  @ApiCreatedResponse({ type: DelegationAnswerDoc })
  @ApiProblemResponses(
    { status: 400, description: 'bad input: a missing delegate, times that are no RFC 3339, until not after from and now, a delegation to oneself (errors name the field)' },
    401,
    { status: 409, description: 'the caller has delegated an overlapping period already (delegation-overlaps, naming it)' },
    413,
    415,
    { status: 422, description: 'the delegate is no active identity the request service knows (unknown-identity)' },
  )
  async grantDelegation(@Body() body: GrantDelegationDto, @CurrentPrincipal() principal: Principal) {
    return this.delegations.grant(
      { approverId: principal.sub, delegateId: body.delegateId, ...(body.from !== undefined && { from: body.from }), until: body.until },
      { actor: principal.sub },
    );
  }

  @Get('delegations')
  @ApiOperation({ summary: 'The delegations the caller gave or received (scheduled, active, ended early or lapsed), newest first' })
  @ApiOkResponse({ type: DelegationList })
  @ApiProblemResponses(401)
  async listDelegations(@CurrentPrincipal() principal: Principal) {
    return { items: await this.delegations.list(principal.sub) };
  }

  @Delete('delegations/:delegationId')
  @HttpCode(200)
  @ApiOperation({ summary: 'End a delegation before its until: its approver (back early) or its delegate (declining). Ending one that ended or lapsed changes nothing' })
  @ApiOkResponse({ type: DelegationAnswerDoc })
  @ApiProblemResponses(
    401,
    { status: 403, description: 'the caller is neither the approver nor the delegate of the delegation (not-delegation-party)' },
    { status: 404, description: 'no delegation with this id (delegation-not-found)' },
  )
  async endDelegation(@Param('delegationId') delegationId: string, @CurrentPrincipal() principal: Principal) {
    return this.delegations.end({ delegationId, endedBy: principal.sub }, { actor: principal.sub });
  }
}
