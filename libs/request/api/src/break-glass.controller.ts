import { Body, Controller, Get, HttpCode, Inject, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiProblemResponses, CurrentPrincipal, forbidden, Principal } from '@custos/platform/http';
import { BreakGlassService, type BreakGlassAnswer } from '@custos/request/application';
import { BreakGlassDto, ReviewBreakGlassDto } from './dto';
import { BreakGlassAnswerDoc } from './responses';

/** Who sees any break-glass use besides its user and reviewers: administrators and auditors. */
const READERS = ['custos:admin', 'custos:auditor'];

/** A use is shown to its user, its reviewers (escalation targets included), administrators and auditors. */
function maySee(principal: Principal, use: BreakGlassAnswer): boolean {
  if (principal.roles.some((role) => READERS.includes(role))) return true;
  return principal.sub === use.identityId || use.reviewerIds.includes(principal.sub) || (use.escalatedTo ?? []).includes(principal.sub);
}

const NOT_FOUND = { status: 404, description: 'no break-glass use with this id (break-glass-not-found)' };

@ApiTags('break-glass')
@ApiBearerAuth()
@Controller('break-glass')
export class BreakGlassController {
  constructor(@Inject(BreakGlassService) private readonly breakGlass: BreakGlassService) {}

  @Post()
  @ApiOperation({
    summary:
      'Break the glass: immediate access to an entitlement marked breakGlass, for at most its maxDuration (PT1H without one), without approval. A privileged entitlement needs a multi-factor login. The security approvers are told (BreakGlassUsed) and one of them must review the use within PT24H, or the review escalates',
  })
  @ApiCreatedResponse({ type: BreakGlassAnswerDoc })
  @ApiProblemResponses(
    { status: 400, description: 'bad input: a missing justification, a duration that is no ISO 8601 duration (errors name the field)' },
    401,
    { status: 403, description: 'a privileged entitlement without a multi-factor login (step-up-required)' },
    413,
    415,
    {
      status: 422,
      description:
        'an unknown or retired entitlement (unknown-entitlement), one not marked breakGlass (break-glass-not-allowed), a duration over the maximum (duration-exceeds-maximum, stating it), or the entitlement service refused the grant',
    },
  )
  async use(@Body() body: BreakGlassDto, @CurrentPrincipal() principal: Principal) {
    return this.breakGlass.use(
      { identityId: principal.sub, entitlement: body.entitlement, justification: body.justification, ...(body.duration !== undefined && { duration: body.duration }), amr: principal.amr ?? [] },
      { actor: principal.sub },
    );
  }

  @Get(':breakGlassId')
  @ApiOperation({ summary: 'A break-glass use: what was taken, why and until when, its grant, and its review (due, escalated, or completed with its outcome)' })
  @ApiOkResponse({ type: BreakGlassAnswerDoc })
  @ApiProblemResponses(401, { status: 403, description: 'the caller is neither its user nor a reviewer, and lacks custos:admin and custos:auditor' }, NOT_FOUND)
  async get(@Param('breakGlassId') breakGlassId: string, @CurrentPrincipal() principal: Principal) {
    const use = await this.breakGlass.get(breakGlassId);
    if (!maySee(principal, use)) throw forbidden(`break-glass use ${breakGlassId} is not yours to see`);
    return use;
  }

  @Post(':breakGlassId/review')
  @HttpCode(200)
  @ApiOperation({
    summary:
      'Complete the mandatory post-incident review of a use, as one of its reviewers (a security approver, or once escalated, one it escalated to), never its user: justified or not, with a comment. Refused attempts are recorded',
  })
  @ApiOkResponse({ type: BreakGlassAnswerDoc })
  @ApiProblemResponses(
    { status: 400, description: 'bad input: an outcome other than justified or not-justified, a missing comment' },
    401,
    { status: 403, description: 'the caller broke the glass (self-approval), is no reviewer (not-eligible-approver), or signed in without mfa for a privileged entitlement (step-up-required)' },
    NOT_FOUND,
    { status: 409, description: 'the review is completed already, otherwise (review-completed)' },
    413,
    415,
  )
  async review(@Param('breakGlassId') breakGlassId: string, @Body() body: ReviewBreakGlassDto, @CurrentPrincipal() principal: Principal) {
    return this.breakGlass.review({ breakGlassId, reviewerId: principal.sub, outcome: body.outcome, comment: body.comment, amr: principal.amr ?? [] }, { actor: principal.sub });
  }
}
