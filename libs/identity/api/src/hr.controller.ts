import { Body, Controller, Headers, HttpCode, Inject, Post } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBearerAuth, ApiHeader, ApiOperation, ApiTags } from '@nestjs/swagger';
import { HrIntake } from '@custos/identity/application';
import { actorOf, ApiProblemResponses, CurrentPrincipal, Roles, type Principal } from '@custos/platform/http';
import { HrEventAcceptedDto, HrEventDto } from './hr-event.dto';
import { hrChangeOf } from './hr-event.validation';

const HR_ROLE = 'custos:hr';

@ApiTags('identity')
@ApiBearerAuth()
@Controller('hr')
export class HrController {
  constructor(@Inject(HrIntake) private readonly intake: HrIntake) {}

  @Post('events')
  @HttpCode(202)
  @Roles(HR_ROLE)
  @ApiOperation({ summary: 'Receive a joiner / mover / leaver / rehire from an HR system' })
  @ApiAcceptedResponse({ type: HrEventAcceptedDto, description: 'applied now, scheduled for its effectiveAt, or a duplicate of an (system, eventId) already received' })
  @ApiHeader({ name: 'x-correlation-id', required: false, description: 'kept on the events the change records' })
  @ApiProblemResponses(
    400,
    401,
    { status: 403, description: 'the token lacks custos:hr' },
    { status: 404, description: 'a mover, leaver or rehire of an employee without an identity (identity-not-found)' },
    { status: 409, description: 'the change does not fit the identity now (invalid-lifecycle-transition, activation-before-start-date)' },
    413,
    415,
    { status: 422, description: 'the employee id does not match the identity (employee-id-mismatch)' },
  )
  receive(@Body() body: HrEventDto, @CurrentPrincipal() principal: Principal, @Headers('x-correlation-id') correlationId?: string): Promise<HrEventAcceptedDto> {
    // The events record who sent the change (a connector token's connector:<id>); the HR system is in their source.
    return this.intake.receive({ ...hrChangeOf(body), channel: 'webhook' }, { correlationId: correlationId || undefined, actor: actorOf(principal) });
  }
}
