import { Controller, Inject } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { AuditLog } from '@custos/audit/application';
import type { CustosEvent } from '@custos/platform/event-store';
import type { DurableEvents } from '@custos/platform/messaging';

/**
 * How long the audit log's consumers let a batch gather. Recording is work nobody waits on: it
 * runs after the change a user waits on (a leaver's revocation, a check) rather than beside it on
 * the same cores and database, and in fewer, larger transactions. bench:leaver measures the effect.
 */
const AUDIT_LINGER_MS = 50;

/**
 * Every published event of every context goes into the audit log, one durable consumer per
 * context. A backlog is recorded in one transaction per batch rather than one per event: the
 * events that arrive while a batch is being written, or within AUDIT_LINGER_MS, make the next one.
 */
@Controller()
export class AuditEventsController {
  constructor(@Inject(AuditLog) private readonly log: AuditLog) {}

  @EventPattern({ durable: 'audit-log-identity', context: 'identity', batch: true, lingerMs: AUDIT_LINGER_MS } satisfies DurableEvents)
  identityEvents(@Payload() events: CustosEvent[]): Promise<number> {
    return this.log.recordBatch(events);
  }

  @EventPattern({ durable: 'audit-log-entitlement', context: 'entitlement', batch: true, lingerMs: AUDIT_LINGER_MS } satisfies DurableEvents)
  entitlementEvents(@Payload() events: CustosEvent[]): Promise<number> {
    return this.log.recordBatch(events);
  }

  @EventPattern({ durable: 'audit-log-request', context: 'request', batch: true, lingerMs: AUDIT_LINGER_MS } satisfies DurableEvents)
  requestEvents(@Payload() events: CustosEvent[]): Promise<number> {
    return this.log.recordBatch(events);
  }

  @EventPattern({ durable: 'audit-log-privileged', context: 'privileged', batch: true, lingerMs: AUDIT_LINGER_MS } satisfies DurableEvents)
  privilegedEvents(@Payload() events: CustosEvent[]): Promise<number> {
    return this.log.recordBatch(events);
  }

  /** The PostgreSQL gateway's sessions: who connected, each statement, how it ended; refused attempts too. */
  @EventPattern({ durable: 'audit-log-gateway', context: 'gateway', batch: true, lingerMs: AUDIT_LINGER_MS } satisfies DurableEvents)
  gatewayEvents(@Payload() events: CustosEvent[]): Promise<number> {
    return this.log.recordBatch(events);
  }
}
