import { DynamicModule, Inject, Module, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { EmployeeDirectory, HrIntake, HrNatsDoor, IdentitiesView, IdentityWorkers } from '@custos/identity/application';
import { CONTEXT_RUNTIME, ContextRuntime, DurableScheduler, migrateContext } from '@custos/platform/runtime';
import { checkHrEvent } from './hr-event.validation';
import { HrController } from './hr.controller';
import { HrNatsController } from './hr-nats.controller';
import { IdentitiesController } from './identities.controller';
import { SCIM_CONTROLLERS, scimProviders, ScimJsonBodyModule } from './scim';

class IdentityModuleLifecycle implements OnModuleInit, OnApplicationShutdown {
  constructor(
    @Inject(CONTEXT_RUNTIME) private readonly runtime: ContextRuntime,
    @Inject(EmployeeDirectory) private readonly directory: EmployeeDirectory,
    @Inject(HrIntake) private readonly intake: HrIntake,
    @Inject(IdentitiesView) private readonly view: IdentitiesView,
    @Inject(DurableScheduler) private readonly scheduler: DurableScheduler,
    @Inject(IdentityWorkers) private readonly workers: IdentityWorkers,
  ) {}

  async onModuleInit(): Promise<void> {
    await migrateContext(this.runtime.db, this.runtime.context, [
      (x) => this.directory.migrate(x),
      (x) => this.intake.migrate(x),
      (x) => this.view.migrate(x),
      (x) => this.scheduler.migrate(x),
    ]);
    await this.workers.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.workers.stop();
  }
}

/** The identity context: HR lifecycle intake and the identity directory. */
@Module({})
export class IdentityModule {
  static forRuntime(runtime: ContextRuntime): DynamicModule {
    const schema = runtime.store.context;
    return {
      module: IdentityModule,
      imports: [ScimJsonBodyModule],
      // HrNatsController is the NATS door, served over the bus (BusTransport).
      controllers: [HrController, IdentitiesController, ...SCIM_CONTROLLERS, HrNatsController],
      providers: [
        { provide: CONTEXT_RUNTIME, useValue: runtime },
        { provide: EmployeeDirectory, useFactory: () => new EmployeeDirectory(runtime.db, schema) },
        { provide: DurableScheduler, useFactory: () => new DurableScheduler(runtime.db, schema, runtime.clock, { onError: (err, job) => runtime.logger.error({ err, job }, 'scheduled job failed') }) },
        { provide: HrIntake, useFactory: (d: EmployeeDirectory, s: DurableScheduler) => new HrIntake(runtime, d, s), inject: [EmployeeDirectory, DurableScheduler] },
        { provide: IdentitiesView, useFactory: () => new IdentitiesView(runtime.db, runtime.store, schema) },
        {
          provide: IdentityWorkers,
          useFactory: (i: HrIntake, v: IdentitiesView, s: DurableScheduler) => new IdentityWorkers(runtime, i, v, s),
          inject: [HrIntake, IdentitiesView, DurableScheduler],
        },
        { provide: HrNatsDoor, useFactory: (i: HrIntake) => new HrNatsDoor(runtime, i, checkHrEvent), inject: [HrIntake] },
        IdentityModuleLifecycle,
        ...scimProviders(runtime),
      ],
    };
  }
}
