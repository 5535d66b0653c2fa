import { Controller, Get, Inject } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiProblemResponses, CurrentPrincipal, Principal } from '@custos/platform/http';
import { Directory, RequestsView, type IdentityProfile } from '@custos/request/application';
import { CONTEXT_RUNTIME, type ContextRuntime } from '@custos/platform/runtime';
import { ApprovalInbox } from './responses';

const person = (identityId: string, profile?: IdentityProfile) => ({
  identityId,
  ...(profile && {
    name: [profile.givenName, profile.familyName].filter(Boolean).join(' ') || undefined,
    email: profile.email,
    title: profile.title,
    department: profile.department,
    managerId: profile.managerId,
  }),
});

@ApiTags('requests')
@ApiBearerAuth()
@Controller('approvals')
export class ApprovalsController {
  constructor(
    @Inject(CONTEXT_RUNTIME) private readonly runtime: ContextRuntime,
    @Inject(RequestsView) private readonly view: RequestsView,
    @Inject(Directory) private readonly directory: Directory,
  ) {}

  @Get()
  @ApiOperation({
    summary:
      'The caller\'s inbox: the requests whose open step the caller may decide now, longest waiting first, with what deciding needs (requester, beneficiary, entitlement, justification, duration, SoD conflicts, wait and SLA)',
  })
  @ApiOkResponse({ type: ApprovalInbox })
  @ApiProblemResponses(401)
  async inbox(@CurrentPrincipal() principal: Principal) {
    await this.view.caughtUp();
    const pending = await this.view.pendingFor(principal.sub);
    const profiles = await this.directory.profiles(pending.flatMap(({ request }) => [request.requesterId, request.beneficiaryId]));
    const now = this.runtime.clock().getTime();
    const items = [];
    for (const { request, step, since } of pending) {
      const entitlement = await this.directory.entitlement(request.target.key);
      const open = request.steps[step];
      items.push({
        requestId: request.requestId,
        requester: person(request.requesterId, profiles.get(request.requesterId)),
        beneficiary: person(request.beneficiaryId, profiles.get(request.beneficiaryId)),
        entitlement: { key: request.target.key, name: entitlement?.name, risk: entitlement?.risk, privileged: request.privileged },
        justification: request.justification,
        ...(request.duration !== undefined && { duration: request.duration }),
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
}
