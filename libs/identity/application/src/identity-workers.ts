import type { BackgroundWorker, ContextRuntime, DurableScheduler } from '@custos/platform/runtime';
import type { HrChange } from './hr-change';
import { HrIntake, SCHEDULED_ACTIVATION, SCHEDULED_HR_CHANGE } from './hr-intake';
import type { IdentitiesView } from './read-models/identities/identities-view';

/** The identity context's background work: its read model and its due HR changes. */
export class IdentityWorkers implements BackgroundWorker {
  constructor(
    private readonly runtime: ContextRuntime,
    private readonly intake: HrIntake,
    private readonly view: IdentitiesView,
    private readonly scheduler: DurableScheduler,
  ) {}

  async start(): Promise<void> {
    const log = this.runtime.logger;
    this.view.start((error) => log.error({ err: error }, 'identities view failed; retrying'));
    this.scheduler.start({
      [SCHEDULED_HR_CHANGE]: async (payload, tx) => {
        // Jobs scheduled before the sender was kept with them name the HR system.
        const { change, identityId, correlationId, actor } = payload as { change: HrChange; identityId: string; correlationId?: string; actor?: string };
        await this.intake.apply(tx, change, identityId, { actor: actor ?? `hr:${change.system}`, correlationId });
      },
      [SCHEDULED_ACTIVATION]: async (payload, tx) => {
        const { identityId, correlationId } = payload as { identityId: string; correlationId?: string };
        await this.intake.activate(tx, identityId, { actor: 'system:scheduler', correlationId });
      },
    });
  }

  async stop(): Promise<void> {
    await this.scheduler.stop();
    await this.view.stop();
  }
}
