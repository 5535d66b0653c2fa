import { Body, Controller, Headers, HttpCode, Inject, OnModuleInit, Post } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBearerAuth, ApiHeader, ApiOperation, ApiTags } from '@nestjs/swagger';
import { HrIntake, ReceivedHrChange } from '@custos/identity/application';
import { ApiProblemResponses, badRequest, FAST_ROUTES, FastRoutes, Roles } from '@custos/platform/http';
import { HrEventAcceptedDto, HrEventDto } from './hr-event.dto';
import { checkHrEvent } from './hr-event.validation';

const HR_ROLE = 'custos:hr';

@ApiTags('identity')
@ApiBearerAuth()
@Controller('hr')
export class HrController implements OnModuleInit {
  constructor(
    @Inject(HrIntake) private readonly intake: HrIntake,
    @Inject(FAST_ROUTES) private readonly fastRoutes: FastRoutes,
  ) {}

  /**
   * The webhook is the hottest write: JSON requests without an Idempotency-Key are answered
   * before Express and Nest (see FastRoutes), under the same role, the same DTO rules (through
   * checkHrEvent, as the NATS door) and the same problem details. The route below documents it
   * and answers every other request.
   */
  onModuleInit(): void {
    this.fastRoutes.post('/hr/events', {
      roles: [HR_ROLE],
      handle: async (payload, _principal, headers) => {
        const checked = await checkHrEvent(payload);
        if (!checked.ok) throw badRequest(`invalid request: ${checked.errors.map((e) => e.field).join(', ')}`, checked.errors);
        const correlationId = headers['x-correlation-id'];
        return { status: 202, body: await this.accept(checked.event, typeof correlationId === 'string' ? correlationId : undefined) };
      },
    });
  }

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
  receive(@Body() body: HrEventDto, @Headers('x-correlation-id') correlationId?: string): Promise<HrEventAcceptedDto> {
    const { groups, ...rest } = body;
    return this.accept({ ...rest, employee: { ...body.employee }, groups }, correlationId);
  }

  private accept(event: Omit<ReceivedHrChange, 'channel'>, correlationId: string | undefined): Promise<HrEventAcceptedDto> {
    return this.intake.receive({ ...event, channel: 'webhook' }, { correlationId: correlationId || undefined });
  }
}
