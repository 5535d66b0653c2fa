import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { AccessChecks } from '@custos/entitlement/application';
import { CHECK_RPC, type CheckResult } from '@custos/entitlement/contracts';

/**
 * `rpc.entitlement.check`: the check API for other services, answered as GET /check answers
 * (`unknown-identity` for an identity the context has not heard of). Any service on the bus may ask.
 */
@Controller()
export class CheckRpc {
  constructor(@Inject(AccessChecks) private readonly checks: AccessChecks) {}

  @MessagePattern(CHECK_RPC)
  check(@Payload() payload: unknown): CheckResult {
    const { identityId, entitlement } = (payload ?? {}) as { identityId?: unknown; entitlement?: unknown };
    if (typeof identityId !== 'string' || typeof entitlement !== 'string' || !identityId || !entitlement) {
      throw Object.assign(new Error('identityId and entitlement are required strings'), { status: 400 });
    }
    return this.checks.check(identityId, entitlement);
  }
}
