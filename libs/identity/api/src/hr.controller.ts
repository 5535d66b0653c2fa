import { Body, Controller, Headers, HttpCode, Inject, Post } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { HrIntake } from '@custos/identity/application';
import { Roles } from '@custos/platform/http';
import { HrEventAcceptedDto, HrEventDto } from './hr-event.dto';

@ApiTags('identity')
@ApiBearerAuth()
@Controller('hr')
export class HrController {
  constructor(@Inject(HrIntake) private readonly intake: HrIntake) {}

  @Post('events')
  @HttpCode(202)
  @Roles('custos:hr')
  @ApiOperation({ summary: 'Receive a joiner / mover / leaver / rehire from an HR system' })
  @ApiAcceptedResponse({ type: HrEventAcceptedDto })
  receive(@Body() body: HrEventDto, @Headers('x-correlation-id') correlationId?: string): Promise<HrEventAcceptedDto> {
    const { groups, ...rest } = body;
    return this.intake.receive({ ...rest, employee: { ...body.employee }, groups, channel: 'webhook' }, { correlationId: correlationId || undefined });
  }
}
