import type { BackgroundWorker, DurableScheduler } from '@custos/platform/runtime';
import { ESCALATE_BREAK_GLASS_REVIEW, type BreakGlassService } from './break-glass-service';
import type { DelegationsView } from './read-models/delegations/delegations-view';
import type { RequestsView } from './read-models/requests-view/requests-view';
import { ESCALATE_REQUEST, EXPIRE_REQUEST, type RequestService } from './request-service';

/** The request context's background work: its read models, and the escalations (of steps and break-glass reviews) and expiries the scheduler keeps (other contexts' events arrive through the api's consumers). */
export class RequestWorkers implements BackgroundWorker {
  constructor(
    private readonly view: RequestsView,
    private readonly requests: RequestService,
    private readonly scheduler: DurableScheduler,
    private readonly onError: (error: unknown) => void,
    private readonly delegations?: DelegationsView,
    private readonly breakGlass?: BreakGlassService,
  ) {}

  async start(): Promise<void> {
    this.view.start(this.onError);
    this.delegations?.start(this.onError);
    this.scheduler.start({
      [ESCALATE_REQUEST]: (payload, tx) => this.requests.escalate(tx, payload as { requestId: string; round: number; step: number; correlationId?: string }),
      [EXPIRE_REQUEST]: (payload, tx) => this.requests.expire(tx, payload as { requestId: string; round: number; correlationId?: string }),
      ...(this.breakGlass && {
        [ESCALATE_BREAK_GLASS_REVIEW]: (payload: unknown, tx: Parameters<BreakGlassService['escalateReview']>[0]) =>
          this.breakGlass!.escalateReview(tx, payload as { breakGlassId: string; correlationId?: string }),
      }),
    });
  }

  async stop(): Promise<void> {
    await this.scheduler.stop();
    await this.delegations?.stop();
    await this.view.stop();
  }
}
