import type { SodQueries } from '@custos/entitlement/application';
import type { ContextRuntime } from '@custos/platform/runtime';

export const EVALUATE_SOD = 'rpc.entitlement.evaluate-sod';

/**
 * `rpc.entitlement.evaluate-sod`: `{identityId, entitlements}` -> `{outcome, violations}`, what
 * adding the entitlements to what the identity holds now would create. The request service asks
 * before routing a request (`approve` adds the security step, `prevent` refuses it).
 */
export class SodRpc {
  private served?: { stop(): Promise<void> };

  constructor(
    private readonly runtime: ContextRuntime,
    private readonly sod: SodQueries,
  ) {}

  async start(): Promise<void> {
    this.served = await this.runtime.bus.serve(EVALUATE_SOD, async (payload) => {
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
    });
  }

  async stop(): Promise<void> {
    await this.served?.stop();
  }
}

/** A domain error travels with its HTTP status and its named data (`keys`...), as the problem details would carry them. */
function asRpcError(error: unknown): unknown {
  if (!(error instanceof Error) || typeof (error as { httpStatus?: unknown }).httpStatus !== 'number') return error;
  const { httpStatus, code, name: _name, stack: _stack, message: _message, ...fields } = error as Error & { httpStatus: number; code: string };
  return Object.assign(new Error(error.message), { status: httpStatus, details: { code, ...fields } });
}
