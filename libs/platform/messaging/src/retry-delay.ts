const MAX_RETRY_DELAY_MS = 30_000;

/** retryDelay is the wait before redelivery number `attempt + 1`: exponential from `baseMs`, capped at 30 s. */
export function retryDelay(baseMs: number, attempt: number): number {
  return Math.min(MAX_RETRY_DELAY_MS, baseMs * 2 ** Math.max(0, attempt - 1));
}

export const DEFAULT_MAX_DELIVER = 5;
export const DEFAULT_RETRY_DELAY_MS = 200;
export const DEFAULT_MAX_BATCH = 64;

/** positiveInteger returns `value`, or throws naming the option when it is not a positive integer. */
export function positiveInteger(option: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) throw new Error(`${option} must be a positive integer, got ${value}`);
  return value;
}

/** A duration option in ms: a whole number, zero or more. */
export function nonNegative(option: string, value: number): number {
  if (!Number.isInteger(value) || value < 0) throw new Error(`${option} must be a whole number of milliseconds, got ${value}`);
  return value;
}

/** errorText keeps the message and the top of the stack: enough to act on a dead letter. */
export function errorText(error: unknown): string {
  if (error instanceof Error) return error.stack?.split('\n').slice(0, 6).join('\n') ?? `${error.name}: ${error.message}`;
  return String(error);
}
