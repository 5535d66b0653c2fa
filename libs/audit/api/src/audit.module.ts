import { DynamicModule, Inject, Module, OnModuleInit } from '@nestjs/common';
import { AuditLog } from '@custos/audit/application';
import { CONTEXT_RUNTIME, ContextRuntime } from '@custos/platform/runtime';
import { AuditEventsController } from './audit-events.controller';
import { AuditController } from './audit.controller';

class AuditLifecycle implements OnModuleInit {
  constructor(@Inject(AuditLog) private readonly log: AuditLog) {}

  async onModuleInit(): Promise<void> {
    await this.log.migrate();
  }
}

/** The audit context: a log of every event as the leaves of a Merkle tree, and its queries. */
@Module({})
export class AuditModule {
  static forRuntime(runtime: ContextRuntime): DynamicModule {
    return {
      module: AuditModule,
      // AuditEventsController consumes every context's events over the bus (BusTransport).
      controllers: [AuditController, AuditEventsController],
      providers: [
        { provide: CONTEXT_RUNTIME, useValue: runtime },
        { provide: AuditLog, useFactory: () => new AuditLog(runtime.db) },
        AuditLifecycle,
      ],
    };
  }
}
