import { ENTITLEMENT_ERROR_STATUSES } from './domain-error-statuses';

/** A domain error travels with its HTTP status and its named data (`keys`...), as the problem details would carry them. */
export function asRpcError(error: unknown): unknown {
  if (!(error instanceof Error)) return error;
  const { httpStatus, code, name: _name, stack: _stack, message: _message, ...fields } = error as Error & { httpStatus?: number; code?: string };
  // A domain error's status is declared at this edge (ENTITLEMENT_ERROR_STATUSES); an application error may carry its own.
  const status = httpStatus ?? ENTITLEMENT_ERROR_STATUSES[code as keyof typeof ENTITLEMENT_ERROR_STATUSES];
  if (typeof status !== 'number') return error;
  return Object.assign(new Error(error.message), { status, details: { code, ...fields } });
}

/** A malformed RPC payload: 400, as the HTTP routes would answer. */
export function badPayload(message: string): Error {
  return Object.assign(new Error(message), { status: 400 });
}
