import { DynamicModule, Inject, Module, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { AuditLog, AuditRecorder } from '@custos/audit/application';
import { CONTEXT_RUNTIME, ContextRuntime } from '@custos/platform/runtime';
import { AuditController } from './audit.controller';

class AuditLifecycle implements OnModuleInit, OnApplicationShutdown {
  constructor(
    @Inject(AuditLog) private readonly log: AuditLog,
    @Inject(AuditRecorder) private readonly recorder: AuditRecorder,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.log.migrate();
    await this.recorder.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.recorder.stop();
  }
}

/** The audit context: a hash-chained log of every event, and its queries. */
@Module({})
export class AuditModule {
  static forRuntime(runtime: ContextRuntime): DynamicModule {
    return {
      module: AuditModule,
      controllers: [AuditController],
      providers: [
        { provide: CONTEXT_RUNTIME, useValue: runtime },
        { provide: AuditLog, useFactory: () => new AuditLog(runtime.db) },
        { provide: AuditRecorder, useFactory: (log: AuditLog) => new AuditRecorder(runtime, log), inject: [AuditLog] },
        AuditLifecycle,
      ],
    };
  }
}
