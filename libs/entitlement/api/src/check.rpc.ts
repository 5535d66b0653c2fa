import type { AccessChecks } from '@custos/entitlement/application';
import type { ContextRuntime } from '@custos/platform/runtime';

/**
 * `rpc.entitlement.check`: the check API for other services, answered as GET /check answers
 * (`unknown-identity` for an identity the context has not heard of). Any service on the bus may ask.
 */
export class CheckRpc {
  private served?: { stop(): Promise<void> };

  constructor(
    private readonly runtime: ContextRuntime,
    private readonly checks: AccessChecks,
  ) {}

  async start(): Promise<void> {
    this.served = await this.runtime.bus.serve('rpc.entitlement.check', async (payload) => {
      const { identityId, entitlement } = (payload ?? {}) as { identityId?: unknown; entitlement?: unknown };
      if (typeof identityId !== 'string' || typeof entitlement !== 'string' || !identityId || !entitlement) {
        throw Object.assign(new Error('identityId and entitlement are required strings'), { status: 400 });
      }
      return this.checks.checkConfirmed(identityId, entitlement);
    });
  }

  async stop(): Promise<void> {
    await this.served?.stop();
  }
}
