import { DynamicModule, Module } from '@nestjs/common';
import { EmployeeDirectory, HrIntake, HrNatsDoor, IdentitiesView, IdentityEmailResolver, IdentityWorkers } from '@custos/identity/application';
import { CachingIdentityResolver, IDENTITY_RESOLVER } from '@custos/platform/http';
import { CONTEXT_RUNTIME, ContextLifecycle, ContextRuntime, DurableScheduler } from '@custos/platform/runtime';
import { checkHrEvent } from './hr-event.validation';
import { HrController } from './hr.controller';
import { HrNatsController } from './hr-nats.controller';
import { IdentitiesController } from './identities.controller';
import { ResolveEmailRpc } from './resolve-email.rpc';
import { SCIM_CONTROLLERS, scimProviders, ScimJsonBodyModule } from './scim';

/** How long the identity context's own process remembers which identity an address names (CUSTOS_OIDC_IDENTITY_FROM=email). */
export const IN_PROCESS_EMAIL_CACHE_MS = 1000;

/** The identity context: HR lifecycle intake and the identity directory. */
@Module({})
export class IdentityModule {
  static forRuntime(runtime: ContextRuntime): DynamicModule {
    const schema = runtime.store.context;
    return {
      module: IdentityModule,
      imports: [ScimJsonBodyModule],
      // HrNatsController is the NATS door and ResolveEmailRpc answers rpc.identity.resolve-email, both served over the bus (BusTransport).
      controllers: [HrController, IdentitiesController, ...SCIM_CONTROLLERS, HrNatsController, ResolveEmailRpc],
      providers: [
        { provide: CONTEXT_RUNTIME, useValue: runtime },
        { provide: EmployeeDirectory, useFactory: () => new EmployeeDirectory(runtime.db, schema) },
        { provide: DurableScheduler, useFactory: () => new DurableScheduler(runtime.db, schema, runtime.clock, { onError: (err, job) => runtime.logger.error({ err, job }, 'scheduled job failed') }) },
        { provide: HrIntake, useFactory: (d: EmployeeDirectory, s: DurableScheduler) => new HrIntake(runtime, d, s), inject: [EmployeeDirectory, DurableScheduler] },
        { provide: IdentitiesView, useFactory: () => new IdentitiesView(runtime.db, runtime.store, schema) },
        { provide: IdentityEmailResolver, useFactory: (v: IdentitiesView) => new IdentityEmailResolver(v), inject: [IdentitiesView] },
        // The process serving this context maps addresses to identities in process (CUSTOS_OIDC_IDENTITY_FROM=email), not
        // over the bus, remembering an answer one second: a person's burst of requests costs one query, and a leave counts
        // within a second of the view recording it (the RPC answers from the view itself; its askers keep their own cache).
        {
          provide: IDENTITY_RESOLVER,
          useFactory: (r: IdentityEmailResolver) => new CachingIdentityResolver(r, { positiveMs: IN_PROCESS_EMAIL_CACHE_MS, negativeMs: IN_PROCESS_EMAIL_CACHE_MS }),
          inject: [IdentityEmailResolver],
        },
        {
          provide: IdentityWorkers,
          useFactory: (i: HrIntake, v: IdentitiesView, s: DurableScheduler) => new IdentityWorkers(runtime, i, v, s),
          inject: [HrIntake, IdentitiesView, DurableScheduler],
        },
        { provide: HrNatsDoor, useFactory: (i: HrIntake) => new HrNatsDoor(runtime, i, checkHrEvent), inject: [HrIntake] },
        {
          provide: ContextLifecycle,
          useFactory: (d: EmployeeDirectory, i: HrIntake, v: IdentitiesView, s: DurableScheduler, w: IdentityWorkers) => new ContextLifecycle(runtime, [d, i, v, s], w),
          inject: [EmployeeDirectory, HrIntake, IdentitiesView, DurableScheduler, IdentityWorkers],
        },
        ...scimProviders(runtime),
      ],
      exports: [IDENTITY_RESOLVER],
    };
  }
}
