import { DynamicModule, Module } from '@nestjs/common';
import { CONTEXT_RUNTIME, ContextRuntime } from '@custos/platform/runtime';

/**
 * The request context (access requests, approvals, break-glass, reviews). Its routes arrive
 * with the requests issue; the module already runs in every deployment so that its store,
 * schema and bus connection are part of the topology from the start.
 */
@Module({})
export class RequestModule {
  static forRuntime(runtime: ContextRuntime): DynamicModule {
    return { module: RequestModule, providers: [{ provide: CONTEXT_RUNTIME, useValue: runtime }] };
  }
}
