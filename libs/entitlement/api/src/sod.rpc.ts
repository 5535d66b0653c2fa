import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { SodQueries } from '@custos/entitlement/application';
import { EVALUATE_SOD_RPC, type EvaluateSodResult } from '@custos/entitlement/contracts';
import { asRpcError } from './rpc-errors';

/**
 * `rpc.entitlement.evaluate-sod`: `{identityId, entitlements}` -> `{outcome, violations}`, what
 * adding the entitlements to what the identity holds now would create. The request service asks
 * before routing a request (`approve` adds the security step, `prevent` refuses it).
 */
@Controller()
export class SodRpc {
  constructor(@Inject(SodQueries) private readonly sod: SodQueries) {}

  @MessagePattern(EVALUATE_SOD_RPC)
  async evaluate(@Payload() payload: unknown): Promise<EvaluateSodResult> {
    const { identityId, entitlements } = (payload ?? {}) as { identityId?: unknown; entitlements?: unknown };
    const valid =
      typeof identityId === 'string' &&
      identityId !== '' &&
      Array.isArray(entitlements) &&
      entitlements.every((key): key is string => typeof key === 'string' && key !== '');
    if (!valid) throw Object.assign(new Error('identityId (a string) and entitlements (an array of keys) are required'), { status: 400 });
    try {
      return await this.sod.evaluate(identityId, entitlements as string[]);
    } catch (error) {
      throw asRpcError(error);
    }
  }
}
