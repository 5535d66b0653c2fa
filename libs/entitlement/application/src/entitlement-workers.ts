import type { BackgroundWorker, DurableScheduler } from '@custos/platform/runtime';
import { AccessService, EXPIRE_GRANT } from './access-service';
import type { AccessView } from './read-models/access/access-view';
import type { BirthrightRecompute } from './birthright-recompute';
import type { CatalogView } from './read-models/catalog/catalog-view';
import type { KnownIdentities } from './read-models/identity-profiles/known-identities';

/** The entitlement context's background work: its views, recomputes and expiries (identity events arrive through IdentityEventsController). */
export class EntitlementWorkers implements BackgroundWorker {
  constructor(
    private readonly catalog: CatalogView,
    private readonly accessView: AccessView,
    private readonly recompute: BirthrightRecompute,
    private readonly access: AccessService,
    private readonly scheduler: DurableScheduler,
    private readonly known: KnownIdentities,
  ) {}

  async start(): Promise<void> {
    this.catalog.onApplied((event) => this.recompute.offer(event));
    // Views first: the check API and every handler read them.
    await this.catalog.start();
    await this.accessView.start();
    await this.known.start();
    this.scheduler.start({
      [EXPIRE_GRANT]: async (payload, tx) => {
        const { identityId, grantId, correlationId } = payload as { identityId: string; grantId: string; correlationId?: string };
        await this.access.expire(tx, identityId, grantId, { actor: 'system:expiry', correlationId });
      },
    });
  }

  async stop(): Promise<void> {
    await this.scheduler.stop();
    await this.known.stop();
    await this.recompute.stop();
    await this.accessView.stop();
    await this.catalog.stop();
  }
}
