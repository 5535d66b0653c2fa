import { Controller, Inject } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { IDENTITY_LIFECYCLE_CONSUMER, IdentityLifecycle } from '@custos/entitlement/application';
import type { CustosEvent } from '@custos/platform/event-store';
import type { DurableEvents } from '@custos/platform/messaging';

/** The identity events the entitlement context reacts to: birthright for joiners and movers, revocation for leavers. */
@Controller()
export class IdentityEventsController {
  constructor(@Inject(IdentityLifecycle) private readonly lifecycle: IdentityLifecycle) {}

  /** Identity events that arrive while a batch is being written make the next one: one transaction per batch. */
  @EventPattern({ durable: IDENTITY_LIFECYCLE_CONSUMER, context: 'identity', batch: true } satisfies DurableEvents)
  identityChanged(@Payload() events: CustosEvent[]): Promise<void> {
    return this.lifecycle.handleBatch(events);
  }
}
