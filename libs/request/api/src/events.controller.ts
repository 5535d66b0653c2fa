import { Controller, Inject } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import type { CustosEvent } from '@custos/platform/event-store';
import type { DurableEvents } from '@custos/platform/messaging';
import {
  ACCESS_DIRECTORY_CONSUMER,
  ACCESS_DIRECTORY_EVENTS,
  ENTITLEMENT_EVENTS_CONSUMER,
  FULFILMENT_CONSUMER,
  FULFILMENT_EVENTS,
  IDENTITY_EVENTS_CONSUMER,
  RequestFulfilment,
} from '@custos/request/application';

/**
 * The events the request context reacts to, over the bus: its own approvals and early returns
 * (granted and revoked through the entitlement context), the entitlement context's catalog and
 * grants (approval facts, security approvers, the ends of requests' grants), and the identity
 * context's changes (managers, who has left).
 */
@Controller()
export class RequestEventsController {
  constructor(@Inject(RequestFulfilment) private readonly fulfilment: RequestFulfilment) {}

  /** The entitlement service may be down for a while: an approval keeps being retried rather than dead-lettered soon. */
  @EventPattern({ durable: FULFILMENT_CONSUMER, context: 'request', eventNames: [...FULFILMENT_EVENTS], maxDeliver: 50 } satisfies DurableEvents)
  requestDecided(@Payload() event: CustosEvent): Promise<void> {
    return this.fulfilment.onRequestEvent(event);
  }

  @EventPattern({
    durable: ENTITLEMENT_EVENTS_CONSUMER,
    context: 'entitlement',
    eventNames: ['EntitlementDefined', 'EntitlementChanged', 'EntitlementRetired', 'AccessGranted', 'AccessRevoked'],
    maxDeliver: 20,
  } satisfies DurableEvents)
  entitlementChanged(@Payload() event: CustosEvent): Promise<void> {
    return this.fulfilment.onEntitlementEvent(event);
  }

  /**
   * A durable of its own, created at its first start and delivering from the stream's beginning:
   * the directory's copy of every identity's grants is whole on a service that had consumed the
   * entitlement events before that copy existed.
   */
  @EventPattern({ durable: ACCESS_DIRECTORY_CONSUMER, context: 'entitlement', eventNames: [...ACCESS_DIRECTORY_EVENTS], maxDeliver: 20 } satisfies DurableEvents)
  accessChanged(@Payload() event: CustosEvent): Promise<void> {
    return this.fulfilment.onAccessEvent(event);
  }

  @EventPattern({ durable: IDENTITY_EVENTS_CONSUMER, context: 'identity' } satisfies DurableEvents)
  identityChanged(@Payload() event: CustosEvent): Promise<void> {
    return this.fulfilment.onIdentityEvent(event);
  }
}
