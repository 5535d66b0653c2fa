import { Controller, Inject } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { HR_NATS_DOOR, HrNatsDoor } from '@custos/identity/application';
import type { InboundMessage, InboundVerdict } from '@custos/platform/messaging';

/** The NATS door for HR systems (`hr.jml.<system>`, stream CUSTOS_HR): each message acked, dead-lettered or retried as HrNatsDoor decides. */
@Controller()
export class HrNatsController {
  constructor(@Inject(HrNatsDoor) private readonly door: HrNatsDoor) {}

  @EventPattern(HR_NATS_DOOR)
  receive(@Payload() message: InboundMessage): Promise<InboundVerdict> {
    return this.door.handle(message);
  }
}
