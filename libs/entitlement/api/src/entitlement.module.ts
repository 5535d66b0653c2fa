import { DynamicModule, Module } from '@nestjs/common';
import {
  AccessChecks,
  AccessService,
  AccessView,
  BirthrightRecompute,
  CatalogPreview,
  CatalogService,
  CatalogView,
  EntitlementWorkers,
  IdentityLifecycle,
  IdentityProfiles,
  KnownIdentities,
  SodQueries,
} from '@custos/entitlement/application';
import { CONTEXT_RUNTIME, ContextLifecycle, ContextRuntime, DurableScheduler, Inbox } from '@custos/platform/runtime';
import { AccessController } from './access.controller';
import { CatalogController } from './catalog.controller';
import { CheckRpc } from './check.rpc';
import { IdentityEventsController } from './identity-events.controller';
import { RequestGrantsRpc } from './request-grants.rpc';
import { SodRpc } from './sod.rpc';

/** The entitlement context: catalog, birthright, access, SoD, and the check API. */
@Module({})
export class EntitlementModule {
  static forRuntime(runtime: ContextRuntime): DynamicModule {
    const schema = runtime.store.context;
    const log = (what: string) => (err: unknown) => runtime.logger.error({ err }, `${what} failed; retrying`);
    return {
      module: EntitlementModule,
      // CheckRpc, SodRpc, RequestGrantsRpc and IdentityEventsController are message handlers, served over the bus (BusTransport).
      controllers: [CatalogController, AccessController, CheckRpc, SodRpc, RequestGrantsRpc, IdentityEventsController],
      providers: [
        { provide: CONTEXT_RUNTIME, useValue: runtime },
        { provide: Inbox, useFactory: () => new Inbox(runtime.db, schema) },
        { provide: IdentityProfiles, useFactory: () => new IdentityProfiles(runtime.db, schema) },
        { provide: DurableScheduler, useFactory: () => new DurableScheduler(runtime.db, schema, runtime.clock, { onError: (err, job) => runtime.logger.error({ err, job }, 'scheduled job failed') }) },
        { provide: CatalogView, useFactory: () => new CatalogView(runtime.store, log('catalog view')) },
        { provide: AccessView, useFactory: () => new AccessView(runtime.store, log('access view')) },
        { provide: CatalogService, useFactory: (c: CatalogView) => new CatalogService(runtime, c), inject: [CatalogView] },
        {
          provide: AccessService,
          useFactory: (c: CatalogView, p: IdentityProfiles, s: DurableScheduler) => new AccessService(runtime, c, p, s),
          inject: [CatalogView, IdentityProfiles, DurableScheduler],
        },
        { provide: KnownIdentities, useFactory: () => new KnownIdentities(runtime.db, schema, log('known identities')) },
        {
          provide: AccessChecks,
          useFactory: (v: AccessView, k: KnownIdentities, p: IdentityProfiles) => new AccessChecks(v, k, p, runtime.clock),
          inject: [AccessView, KnownIdentities, IdentityProfiles],
        },
        {
          provide: IdentityLifecycle,
          useFactory: (i: Inbox, p: IdentityProfiles, a: AccessService, c: CatalogView, k: KnownIdentities) => new IdentityLifecycle(runtime, i, p, a, c, k),
          inject: [Inbox, IdentityProfiles, AccessService, CatalogView, KnownIdentities],
        },
        {
          provide: BirthrightRecompute,
          useFactory: (i: Inbox, p: IdentityProfiles, a: AccessService) => new BirthrightRecompute(runtime.db, i, p, a, runtime.logger),
          inject: [Inbox, IdentityProfiles, AccessService],
        },
        {
          provide: EntitlementWorkers,
          useFactory: (c: CatalogView, v: AccessView, r: BirthrightRecompute, a: AccessService, s: DurableScheduler, k: KnownIdentities) =>
            new EntitlementWorkers(c, v, r, a, s, k),
          inject: [CatalogView, AccessView, BirthrightRecompute, AccessService, DurableScheduler, KnownIdentities],
        },
        { provide: CatalogPreview, useFactory: (c: CatalogView, p: IdentityProfiles) => new CatalogPreview(c, p, runtime.clock), inject: [CatalogView, IdentityProfiles] },
        { provide: SodQueries, useFactory: (c: CatalogView, v: AccessView) => new SodQueries(runtime.store, c, v, runtime.clock), inject: [CatalogView, AccessView] },
        {
          provide: ContextLifecycle,
          useFactory: (i: Inbox, p: IdentityProfiles, s: DurableScheduler, w: EntitlementWorkers) => new ContextLifecycle(runtime, [i, p, s], w),
          inject: [Inbox, IdentityProfiles, DurableScheduler, EntitlementWorkers],
        },
      ],
    };
  }
}
