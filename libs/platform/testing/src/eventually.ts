/**
 * Polls `probe` until it returns a value accepted by `accept` (default: not undefined/null/false),
 * for asynchronous effects such as projections and consumers. Fails with the last seen value.
 */
export async function eventually<T>(probe: () => Promise<T>, options: { timeoutMs?: number; intervalMs?: number; accept?: (value: T) => boolean; what?: string } = {}): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 10_000);
  const accept = options.accept ?? ((v: T) => v !== undefined && v !== null && (v as unknown) !== false);
  let last: T | undefined;
  let lastError: unknown;
  for (;;) {
    try {
      last = await probe();
      if (accept(last)) return last;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${options.what ?? 'a condition'}; last value: ${JSON.stringify(last)}${lastError ? `; last error: ${String(lastError)}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, options.intervalMs ?? 100));
  }
}
