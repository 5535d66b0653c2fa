import { Controller, Inject } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { AuditLog } from '@custos/audit/application';
import type { CustosEvent } from '@custos/platform/event-store';
import type { DurableEvents } from '@custos/platform/messaging';

/**
 * Every published event of every context goes into the audit log, one durable consumer per
 * context. A backlog is recorded in one transaction per batch rather than one per event: the
 * events that arrive while a batch is being written make the next one.
 */
@Controller()
export class AuditEventsController {
  constructor(@Inject(AuditLog) private readonly log: AuditLog) {}

  @EventPattern({ durable: 'audit-log-identity', context: 'identity', batch: true } satisfies DurableEvents)
  identityEvents(@Payload() events: CustosEvent[]): Promise<number> {
    return this.log.recordBatch(events);
  }

  @EventPattern({ durable: 'audit-log-entitlement', context: 'entitlement', batch: true } satisfies DurableEvents)
  entitlementEvents(@Payload() events: CustosEvent[]): Promise<number> {
    return this.log.recordBatch(events);
  }

  @EventPattern({ durable: 'audit-log-request', context: 'request', batch: true } satisfies DurableEvents)
  requestEvents(@Payload() events: CustosEvent[]): Promise<number> {
    return this.log.recordBatch(events);
  }
}
