import { RpcError } from './bus';

/** The body of an error answer: what a remote handler's failure tells the caller. */
export interface RpcErrorBody {
  error: { status: number; message: string; details?: unknown };
}

/**
 * rpcErrorBody turns whatever a handler threw into an error answer: `status` from the error
 * when it is an HTTP-like 4xx/5xx number (so a domain error can say 403 or 409), else 500.
 */
export function rpcErrorBody(thrown: unknown): RpcErrorBody {
  const source = (typeof thrown === 'object' && thrown !== null ? thrown : {}) as {
    status?: unknown;
    message?: unknown;
    details?: unknown;
  };
  const status =
    typeof source.status === 'number' && Number.isInteger(source.status) && source.status >= 400 && source.status <= 599
      ? source.status
      : 500;
  const message = typeof source.message === 'string' ? source.message : String(thrown);
  return { error: source.details === undefined ? { status, message } : { status, message, details: source.details } };
}

/** rpcErrorFromBody rebuilds the RpcError a caller sees from an error answer. */
export function rpcErrorFromBody(subject: string, body: RpcErrorBody): RpcError {
  return new RpcError(subject, body.error.status, body.error.message, body.error.details);
}

/** roundTripJson gives in-process callers exactly what JSON over the wire would: no shared references, Dates as strings. */
export function roundTripJson(value: unknown): unknown {
  return value === undefined ? null : JSON.parse(JSON.stringify(value));
}
