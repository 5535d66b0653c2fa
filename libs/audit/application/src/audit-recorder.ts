import type { BackgroundWorker, ContextRuntime } from '@custos/platform/runtime';
import type { Consumer } from '@custos/platform/messaging';
import { AuditLog } from './audit-log';

/** The contexts whose events the audit log records. */
export const AUDITED_CONTEXTS = ['identity', 'entitlement', 'request'] as const;

/** Feeds every published event of every context into the audit log through durable consumers. */
export class AuditRecorder implements BackgroundWorker {
  private consumers: Consumer[] = [];

  constructor(
    private readonly runtime: ContextRuntime,
    private readonly log: AuditLog,
  ) {}

  async start(): Promise<void> {
    for (const context of AUDITED_CONTEXTS) {
      this.consumers.push(
        await this.runtime.bus.consume({
          durable: `audit-log-${context}`,
          context,
          handler: async (event) => {
            await this.log.record(event);
          },
          // A backlog is recorded in one transaction per batch rather than one per event: the
          // events that arrive while a batch is being written make the next one.
          batchHandler: async (events) => {
            await this.log.recordBatch(events);
          },
        }),
      );
    }
  }

  async stop(): Promise<void> {
    await Promise.all(this.consumers.map((c) => c.stop()));
    this.consumers = [];
  }
}
