import type { BackgroundWorker, DurableScheduler } from '@custos/platform/runtime';
import type { DelegationsView } from './read-models/delegations/delegations-view';
import type { RequestsView } from './read-models/requests-view/requests-view';
import { ESCALATE_REQUEST, EXPIRE_REQUEST, type RequestService } from './request-service';

/** The request context's background work: its read models, and the escalations and expiries the scheduler keeps (other contexts' events arrive through the api's consumers). */
export class RequestWorkers implements BackgroundWorker {
  constructor(
    private readonly view: RequestsView,
    private readonly requests: RequestService,
    private readonly scheduler: DurableScheduler,
    private readonly onError: (error: unknown) => void,
    private readonly delegations?: DelegationsView,
  ) {}

  async start(): Promise<void> {
    this.view.start(this.onError);
    this.delegations?.start(this.onError);
    this.scheduler.start({
      [ESCALATE_REQUEST]: (payload, tx) => this.requests.escalate(tx, payload as { requestId: string; round: number; step: number; correlationId?: string }),
      [EXPIRE_REQUEST]: (payload, tx) => this.requests.expire(tx, payload as { requestId: string; round: number; correlationId?: string }),
    });
  }

  async stop(): Promise<void> {
    await this.scheduler.stop();
    await this.delegations?.stop();
    await this.view.stop();
  }
}
