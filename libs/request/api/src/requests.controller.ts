import { Body, Controller, Get, HttpCode, Inject, Param, Post, Query } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { badRequest, ApiProblemResponses, CurrentPrincipal, forbidden, Principal } from '@custos/platform/http';
import { RequestService, RequestsView, type RequestAnswer } from '@custos/request/application';
import { ApproveDto, DenyDto, ExtendRequestDto, ReasonDto, RequestListQueryDto, SubmitRequestDto } from './dto';
import { RequestAnswerDoc, RequestPage } from './responses';

/** Who sees any request: administrators and auditors. */
const READERS = ['custos:admin', 'custos:auditor'];

const meta = (principal: Principal) => ({ actor: principal.sub });
const isReader = (principal: Principal) => principal.roles.some((role) => READERS.includes(role));

/** A request is shown to its requester, its beneficiary, the approvers of its steps (and its extensions' steps), administrators and auditors. */
export function maySee(principal: Principal, request: RequestAnswer): boolean {
  if (isReader(principal)) return true;
  if (principal.sub === request.requesterId || principal.sub === request.beneficiaryId) return true;
  const steps = [...request.steps, ...(request.extensions ?? []).flatMap((extension) => extension.steps)];
  return steps.some((step) => step.approverIds.includes(principal.sub) || (step.escalatedTo ?? []).includes(principal.sub));
}

const NOT_FOUND = { status: 404, description: 'no request with this id (request-not-found)' };
const NOT_PENDING = { status: 409, description: 'the request is no longer pending (request-not-pending), or the caller decided this step otherwise already (already-decided)' };

@ApiTags('requests')
@ApiBearerAuth()
@Controller('requests')
export class RequestsController {
  constructor(
    @Inject(RequestService) private readonly requests: RequestService,
    @Inject(RequestsView) private readonly view: RequestsView,
  ) {}

  @Post()
  @ApiOperation({
    summary:
      'Ask for access to an entitlement or a role, for yourself (or, as their manager or custos:admin, for someone else). Routed into steps by the entitlement\'s approval policy (manager, owner, security, group; N of M each; a role: the strictest of its entitlements\' together); separation of duties is checked first',
  })
  @ApiCreatedResponse({ type: RequestAnswerDoc })
  @ApiProblemResponses(
    { status: 400, description: 'bad input: a missing justification, a duration that is no ISO 8601 duration, neither or both of entitlement and role (errors name the field)' },
    401,
    { status: 403, description: 'a request for someone who is neither the caller nor managed by them, without custos:admin (not-allowed-to-request)' },
    413,
    415,
    {
      status: 422,
      description:
        'an unknown or retired entitlement (unknown-entitlement), an unknown or inactive beneficiary (unknown-identity), a duration over the maximum (duration-exceeds-maximum, stating it), an SoD prevent conflict (sod-violation, naming the entitlements), a step nobody can approve (no-eligible-approvers), an unknown, retired or empty role (unknown-role)',
    },
    { status: 503, description: 'the entitlement service did not answer the SoD evaluation (or, for a role, what the role gives)' },
  )
  async submit(@Body() body: SubmitRequestDto, @CurrentPrincipal() principal: Principal) {
    if (body.entitlement !== undefined && body.role !== undefined) {
      throw badRequest('give entitlement or role, not both', [{ field: 'role', message: 'give entitlement or role, not both' }]);
    }
    const target = body.role !== undefined ? { kind: 'role' as const, key: body.role } : { kind: 'entitlement' as const, key: body.entitlement! };
    const { answer } = await this.requests.submit(
      {
        requesterId: principal.sub,
        ...(body.beneficiaryId !== undefined && { beneficiaryId: body.beneficiaryId }),
        target,
        justification: body.justification,
        ...(body.duration !== undefined && { duration: body.duration }),
        mayRequestForAnyone: principal.roles.includes('custos:admin'),
      },
      meta(principal),
    );
    return answer;
  }

  @Get()
  @ApiOperation({
    summary: 'Requests, newest first, by beneficiary, requester and status, a page at a time. Without custos:admin or custos:auditor, beneficiaryId or requesterId must be the caller',
  })
  @ApiOkResponse({ type: RequestPage })
  @ApiProblemResponses(400, 401, { status: 403, description: 'listing requests neither raised by nor for the caller, without custos:admin or custos:auditor' })
  async list(@Query() q: RequestListQueryDto, @CurrentPrincipal() principal: Principal) {
    if (!isReader(principal) && q.beneficiaryId !== principal.sub && q.requesterId !== principal.sub) {
      throw forbidden('you may list your own requests only (beneficiaryId or requesterId your id); listing others needs custos:admin or custos:auditor');
    }
    // Read-your-writes: what this service accepted a moment ago is listed.
    await this.view.caughtUp();
    return this.view.list({ beneficiaryId: q.beneficiaryId, requesterId: q.requesterId, status: q.status, after: q.after, limit: q.limit ?? 50 });
  }

  @Get(':requestId')
  @ApiOperation({ summary: 'A request: its steps with their eligible approvers, every decision with its comment and time, and its grant with its expiry once fulfilled' })
  @ApiOkResponse({ type: RequestAnswerDoc })
  @ApiProblemResponses(401, { status: 403, description: 'the caller is no party to, nor approver of, the request, and lacks custos:admin and custos:auditor' }, NOT_FOUND)
  async get(@Param('requestId') requestId: string, @CurrentPrincipal() principal: Principal) {
    const { answer } = await this.requests.get(requestId);
    if (!maySee(principal, answer)) throw forbidden(`request ${requestId} is not yours to see`);
    return answer;
  }

  @Post(':requestId/approve')
  @HttpCode(200)
  @ApiOperation({
    summary:
      'Approve the current step as one of its approvers. Nobody approves a request they raised or benefit from; a privileged entitlement needs a multi-factor login (mfa in amr). Refused attempts are recorded',
  })
  @ApiOkResponse({ type: RequestAnswerDoc })
  @ApiProblemResponses(
    { status: 400, description: 'bad input, or an approval of a step accepting SoD conflicts without exceptionJustification' },
    401,
    { status: 403, description: 'the caller raised or benefits from the request (self-approval), is no approver of the current step (not-eligible-approver), or signed in without mfa for a privileged entitlement (step-up-required)' },
    NOT_FOUND,
    NOT_PENDING,
    413,
    415,
  )
  async approve(@Param('requestId') requestId: string, @Body() body: ApproveDto, @CurrentPrincipal() principal: Principal) {
    const { answer } = await this.requests.decide({ requestId, approverId: principal.sub, decision: 'approve', ...body, amr: principal.amr ?? [] }, meta(principal));
    return answer;
  }

  @Post(':requestId/deny')
  @HttpCode(200)
  @ApiOperation({ summary: 'Deny the current step, saying why: the request is denied' })
  @ApiOkResponse({ type: RequestAnswerDoc })
  @ApiProblemResponses(
    { status: 400, description: 'bad input: a missing comment' },
    401,
    { status: 403, description: 'self-approval, not-eligible-approver or step-up-required, as for approve' },
    NOT_FOUND,
    NOT_PENDING,
    413,
    415,
  )
  async deny(@Param('requestId') requestId: string, @Body() body: DenyDto, @CurrentPrincipal() principal: Principal) {
    const { answer } = await this.requests.decide({ requestId, approverId: principal.sub, decision: 'deny', comment: body.comment, amr: principal.amr ?? [] }, meta(principal));
    return answer;
  }

  @Post(':requestId/cancel')
  @HttpCode(200)
  @ApiOperation({ summary: 'Withdraw a pending request (its requester only)' })
  @ApiOkResponse({ type: RequestAnswerDoc })
  @ApiProblemResponses(400, 401, { status: 403, description: 'the caller did not raise the request (not-requester)' }, NOT_FOUND, { status: 409, description: 'the request is no longer pending (request-not-pending)' }, 413, 415)
  async cancel(@Param('requestId') requestId: string, @Body() body: ReasonDto, @CurrentPrincipal() principal: Principal) {
    const { answer } = await this.requests.cancel({ requestId, cancelledBy: principal.sub, ...(body.reason !== undefined && { reason: body.reason }) }, meta(principal));
    return answer;
  }

  @Post(':requestId/extend')
  @HttpCode(200)
  @ApiOperation({
    summary:
      'Ask for more time on access in force (the beneficiary only): a new approval round through the request\'s steps, their approvers resolved again now and decided as the request was (approve and deny on the request decide it; GET /approvals lists it). Once approved, the grant keeps its id and runs to the approval time plus duration',
  })
  @ApiOkResponse({ type: RequestAnswerDoc, description: 'the request, its new extension pending in extensions' })
  @ApiProblemResponses(
    { status: 400, description: 'bad input: a missing justification or duration, a duration that is no ISO 8601 duration (errors name the field)' },
    401,
    { status: 403, description: 'the caller is not the beneficiary (not-beneficiary)' },
    NOT_FOUND,
    {
      status: 409,
      description: 'no access of this request is in force (access-not-in-force), its access has no end to extend (access-without-end), or an extension is pending already (extension-pending)',
    },
    413,
    415,
    { status: 422, description: 'a duration over the request\'s maximum (duration-exceeds-maximum, stating it), a step nobody can approve (no-eligible-approvers)' },
  )
  async extend(@Param('requestId') requestId: string, @Body() body: ExtendRequestDto, @CurrentPrincipal() principal: Principal) {
    const { answer } = await this.requests.extend({ requestId, requestedBy: principal.sub, duration: body.duration, justification: body.justification }, meta(principal));
    return answer;
  }

  @Post(':requestId/revoke')
  @HttpCode(202)
  @ApiOperation({ summary: 'Give the access back before its end (the beneficiary only): its grants are revoked, and the request shows revoked once they are' })
  @ApiAcceptedResponse({ type: RequestAnswerDoc })
  @ApiProblemResponses(400, 401, { status: 403, description: 'the caller is not the beneficiary (not-beneficiary)' }, NOT_FOUND, { status: 409, description: 'no access of this request is in force (access-not-in-force)' }, 413, 415)
  async revoke(@Param('requestId') requestId: string, @Body() body: ReasonDto, @CurrentPrincipal() principal: Principal) {
    const { answer } = await this.requests.revokeEarly({ requestId, revokedBy: principal.sub, ...(body.reason !== undefined && { reason: body.reason }) }, meta(principal));
    return answer;
  }
}
