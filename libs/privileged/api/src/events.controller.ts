import { Controller, Inject } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import type { CustosEvent } from '@custos/platform/event-store';
import type { DurableEvents } from '@custos/platform/messaging';
import { ENTITLEMENT_EVENTS, ENTITLEMENT_EVENTS_CONSUMER, JitAccounts } from '@custos/privileged/application';

/** The events the privileged context reacts to, over the bus: the catalog's target links and the grants' starts, extensions and ends. */
@Controller()
export class PrivilegedEventsController {
  constructor(@Inject(JitAccounts) private readonly jit: JitAccounts) {}

  /** The privileged service's own store may be busy or restarting: a grant's start or end keeps being retried rather than dead-lettered soon. */
  @EventPattern({ durable: ENTITLEMENT_EVENTS_CONSUMER, context: 'entitlement', eventNames: [...ENTITLEMENT_EVENTS], maxDeliver: 50 } satisfies DurableEvents)
  entitlementChanged(@Payload() event: CustosEvent): Promise<void> {
    return this.jit.onEntitlementEvent(event);
  }
}
