import { DynamicModule, Inject, Module, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { AuditLog } from '@custos/audit/application';
import { CONTEXT_RUNTIME, ContextRuntime } from '@custos/platform/runtime';
import { AuditEventsController } from './audit-events.controller';
import { AuditController } from './audit.controller';
import { AuditSettings, loadSigner, transparencySettings } from './audit-settings';

const AUDIT_SETTINGS = Symbol('AUDIT_SETTINGS');

class AuditLifecycle implements OnModuleInit, OnModuleDestroy {
  private timer?: NodeJS.Timeout;

  constructor(
    @Inject(AuditLog) private readonly log: AuditLog,
    @Inject(CONTEXT_RUNTIME) private readonly runtime: ContextRuntime,
    @Inject(AUDIT_SETTINGS) private readonly settings: AuditSettings | undefined,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.log.migrate();
    const published = await this.log.tree.publishKey(this.log.lock);
    const logger = this.runtime.logger;
    if (!published) {
      logger.warn('no audit signing key (CUSTOS_AUDIT_SIGNING_KEY or CUSTOS_AUDIT_SIGNING_KEY_FILE): the audit log makes no signed checkpoints');
      return;
    }
    const { verifierKey, fromSize, added } = published;
    logger.info({ verifierKey, fromSize }, added ? `audit checkpoints are signed from tree size ${fromSize} on by the new key ${verifierKey}` : `audit checkpoints are signed by ${verifierKey}`);
    const minutes = this.settings?.checkpointMinutes ?? 0;
    if (minutes > 0) {
      this.timer = setInterval(() => {
        this.log.tree.checkpointNow(this.log.lock).catch((error: unknown) => logger.warn({ err: error }, 'audit checkpoint not made; the next tick tries again'));
      }, minutes * 60_000);
      this.timer.unref();
    }
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }
}

/** The audit context: a log of every event as the leaves of a Merkle tree, its signed checkpoints, proofs and queries. */
@Module({})
export class AuditModule {
  /** `settings` (readAuditSettings): how checkpoints are signed and made; none: no checkpoints. */
  static forRuntime(runtime: ContextRuntime, settings?: AuditSettings): DynamicModule {
    return {
      module: AuditModule,
      // AuditEventsController consumes every context's events over the bus (BusTransport).
      controllers: [AuditController, AuditEventsController],
      providers: [
        { provide: CONTEXT_RUNTIME, useValue: runtime },
        { provide: AUDIT_SETTINGS, useValue: settings },
        {
          provide: AuditLog,
          useFactory: () => {
            if (!settings) return new AuditLog(runtime.db);
            const { signer, generated } = loadSigner(settings);
            if (generated) runtime.logger.info({ file: generated }, `generated the audit signing key ${generated}; keep it, and publish its verifier key`);
            return new AuditLog(runtime.db, 'audit', transparencySettings(settings, signer));
          },
        },
        AuditLifecycle,
      ],
    };
  }
}
