import { DynamicModule, Module } from '@nestjs/common';
import { CONTEXT_RUNTIME, ContextLifecycle, ContextRuntime, DurableScheduler, Inbox } from '@custos/platform/runtime';
import { BreakGlassService, DelegationService, DelegationsView, Directory, RequestFulfilment, RequestService, RequestsView, RequestWorkers } from '@custos/request/application';
import { ApprovalsController } from './approvals.controller';
import { BreakGlassController } from './break-glass.controller';
import { RequestEventsController } from './events.controller';
import { readRequestSettings, type RequestSettings } from './request-settings';
import { RequestsController } from './requests.controller';

/**
 * The request context: access requests and their approvals (POST /requests, GET /approvals...),
 * fulfilled through the entitlement context, approvers' delegations (/approvals/delegations), and break-glass
 * access with its post-incident review (/break-glass).
 */
@Module({})
export class RequestModule {
  /** `settings`: read from the process environment unless given (readRequestSettings). */
  static forRuntime(runtime: ContextRuntime, settings: RequestSettings = readRequestSettings(process.env)): DynamicModule {
    const schema = runtime.store.context;
    const log = (what: string) => (err: unknown) => runtime.logger.error({ err }, `${what} failed; retrying`);
    return {
      module: RequestModule,
      // RequestEventsController holds message handlers, served over the bus (BusTransport).
      controllers: [RequestsController, ApprovalsController, BreakGlassController, RequestEventsController],
      providers: [
        { provide: CONTEXT_RUNTIME, useValue: runtime },
        { provide: Inbox, useFactory: () => new Inbox(runtime.db, schema) },
        { provide: Directory, useFactory: () => new Directory(runtime.db, schema) },
        { provide: RequestsView, useFactory: () => new RequestsView(runtime.db, runtime.store, schema) },
        { provide: DurableScheduler, useFactory: () => new DurableScheduler(runtime.db, schema, runtime.clock, { onError: (err, job) => runtime.logger.error({ err, job }, 'scheduled job failed') }) },
        { provide: DelegationsView, useFactory: () => new DelegationsView(runtime.db, runtime.store, schema) },
        {
          provide: RequestService,
          useFactory: (d: Directory, s: DurableScheduler, v: DelegationsView) => new RequestService(runtime, d, s, v),
          inject: [Directory, DurableScheduler, DelegationsView],
        },
        {
          provide: BreakGlassService,
          useFactory: (d: Directory, s: DurableScheduler) =>
            new BreakGlassService(runtime, d, s, { ...(settings.breakGlassReviewWindow !== undefined && { reviewWindow: settings.breakGlassReviewWindow }) }),
          inject: [Directory, DurableScheduler],
        },
        { provide: DelegationService, useFactory: (d: Directory, v: DelegationsView) => new DelegationService(runtime, d, v), inject: [Directory, DelegationsView] },
        {
          provide: RequestFulfilment,
          useFactory: (i: Inbox, d: Directory, r: RequestService, b: BreakGlassService) => new RequestFulfilment(runtime, i, d, r, b),
          inject: [Inbox, Directory, RequestService, BreakGlassService],
        },
        {
          provide: RequestWorkers,
          useFactory: (v: RequestsView, r: RequestService, s: DurableScheduler, d: DelegationsView, b: BreakGlassService) =>
            new RequestWorkers(v, r, s, log('request read models'), d, b),
          inject: [RequestsView, RequestService, DurableScheduler, DelegationsView, BreakGlassService],
        },
        {
          provide: ContextLifecycle,
          useFactory: (i: Inbox, d: Directory, v: RequestsView, g: DelegationsView, s: DurableScheduler, w: RequestWorkers) => new ContextLifecycle(runtime, [i, d, v, g, s], w),
          inject: [Inbox, Directory, RequestsView, DelegationsView, DurableScheduler, RequestWorkers],
        },
      ],
    };
  }
}
