import { OnModuleInit, Inject, Injectable, type Provider } from '@nestjs/common';
import { EmployeeDirectory, HrIntake, IdentitiesView, ScimGroups, ScimUsers } from '@custos/identity/application';
import { CONTEXT_RUNTIME, ContextRuntime, migrateContext } from '@custos/platform/runtime';
import { ScimDiscoveryController } from './scim-discovery.controller';
import { ScimGroupsController } from './scim-groups.controller';
import { ScimUsersController } from './scim-users.controller';

export { ScimJsonBodyModule } from './scim-json-body';
export { ScimExceptionFilter, scimErrorOf, SCIM_CONTENT_TYPE } from './scim-exception.filter';

/** Creates the SCIM door's tables at start. */
@Injectable()
class ScimTables implements OnModuleInit {
  constructor(
    @Inject(CONTEXT_RUNTIME) private readonly runtime: ContextRuntime,
    @Inject(ScimUsers) private readonly users: ScimUsers,
  ) {}

  async onModuleInit(): Promise<void> {
    await migrateContext(this.runtime.db, this.runtime.context, [(x) => this.users.migrate(x)]);
  }
}

/** The SCIM 2.0 door's controllers (Users, Groups, discovery). */
export const SCIM_CONTROLLERS = [ScimUsersController, ScimGroupsController, ScimDiscoveryController];

/** The SCIM 2.0 door's providers, built on the identity context's intake, directory and view. */
export function scimProviders(runtime: ContextRuntime): Provider[] {
  return [
    {
      provide: ScimUsers,
      useFactory: (intake: HrIntake, directory: EmployeeDirectory, view: IdentitiesView) => new ScimUsers(runtime, intake, directory, view),
      inject: [HrIntake, EmployeeDirectory, IdentitiesView],
    },
    { provide: ScimGroups, useFactory: (directory: EmployeeDirectory) => new ScimGroups(runtime, directory), inject: [EmployeeDirectory] },
    ScimTables,
  ];
}
