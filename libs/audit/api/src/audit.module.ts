import { DynamicModule, Inject, Module, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { AuditLog } from '@custos/audit/application';
import { CONTEXT_RUNTIME, ContextRuntime } from '@custos/platform/runtime';
import { AuditEventsController } from './audit-events.controller';
import { AuditController } from './audit.controller';
import { Histogram, register } from 'prom-client';
import { AuditHistoryController } from './audit-history.controller';
import { AUDIT_SETTINGS, AuditSettings, loadSigner, transparencySettings } from './audit-settings';

/**
 * The deprovisioning SLO as Prometheus sees it: for each leaver whose access is all gone, the
 * seconds from the termination taking effect to the last revocation, observed once, by the
 * process that recorded the entries showing it (sum it over replicas). The deprovisioning report
 * gives the same figure per leaver and its percentiles per period.
 */
function deprovisioningHistogram(): Histogram {
  const name = 'custos_audit_deprovisioning_seconds';
  const known = register.getSingleMetric(name);
  if (known) return known as Histogram;
  return new Histogram({
    name,
    help: 'Seconds from a termination taking effect to the revocation of the leaver’s last grant',
    buckets: [1, 10, 60, 300, 900, 3600, 4 * 3600, 24 * 3600, 3 * 24 * 3600, 7 * 24 * 3600],
  });
}

class AuditLifecycle implements OnModuleInit, OnModuleDestroy {
  private timer?: NodeJS.Timeout;

  constructor(
    @Inject(AuditLog) private readonly log: AuditLog,
    @Inject(CONTEXT_RUNTIME) private readonly runtime: ContextRuntime,
    @Inject(AUDIT_SETTINGS) private readonly settings: AuditSettings | undefined,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.log.migrate();
    const histogram = deprovisioningHistogram();
    this.log.onDeprovisioned = (leavers) => {
      for (const leaver of leavers) histogram.observe(leaver.seconds);
    };
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
      controllers: [AuditController, AuditHistoryController, AuditEventsController],
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
