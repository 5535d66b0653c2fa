import { problem, ProblemException } from '../problem';

/** How many failed authentications a client address may have in a window (CUSTOS_AUTH_FAILURE_LIMIT, CUSTOS_AUTH_FAILURE_WINDOW). */
export interface FailedAuthLimit {
  /** Failures allowed per window; 0 turns the limit off. */
  limit: number;
  windowSec: number;
}

export const DEFAULT_FAILED_AUTH_LIMIT: FailedAuthLimit = { limit: 20, windowSec: 60 };

/**
 * FailedAuthLimiter counts the failed authentications of each client address in a fixed window:
 * once an address has `limit` failures, its requests are answered 429 with Retry-After until the
 * window ends, whatever token they carry (a stolen token tried from there waits too). Only
 * failures count: a client sending valid tokens is never limited, nor one sending none. At most
 * `maxAddresses` addresses are tracked (the oldest windows are forgotten first), so a flood of
 * addresses cannot exhaust memory. In memory, per process.
 */
export class FailedAuthLimiter {
  private readonly windows = new Map<string, { failures: number; endsAt: number }>();

  constructor(
    readonly settings: FailedAuthLimit = DEFAULT_FAILED_AUTH_LIMIT,
    private readonly now: () => number = Date.now,
    private readonly maxAddresses = 100_000,
  ) {}

  /** A 429 problem with Retry-After if `address` has used up its failures, else nothing. */
  check(address: string): void {
    if (this.settings.limit <= 0) return;
    const window = this.windows.get(address);
    if (!window) return;
    const now = this.now();
    if (window.endsAt <= now) {
      this.windows.delete(address);
      return;
    }
    if (window.failures >= this.settings.limit) {
      const retryAfterSec = Math.max(1, Math.ceil((window.endsAt - now) / 1000));
      throw new ProblemException(
        problem(429, 'too-many-failed-authentications', `${window.failures} failed authentications from this address; try again in ${retryAfterSec} s`, { retryAfter: retryAfterSec }),
        { 'Retry-After': String(retryAfterSec) },
      );
    }
  }

  /** Counts a failed authentication from `address`. */
  failed(address: string): void {
    if (this.settings.limit <= 0) return;
    const now = this.now();
    const window = this.windows.get(address);
    if (window && window.endsAt > now) {
      window.failures += 1;
      return;
    }
    this.windows.delete(address);
    if (this.windows.size >= this.maxAddresses) this.forget(now);
    this.windows.set(address, { failures: 1, endsAt: now + this.settings.windowSec * 1000 });
  }

  /** Drops the windows that ended, and the oldest ones while there are still too many. */
  private forget(now: number): void {
    for (const [address, window] of this.windows) if (window.endsAt <= now) this.windows.delete(address);
    for (const address of this.windows.keys()) {
      if (this.windows.size < this.maxAddresses) break;
      this.windows.delete(address);
    }
  }
}
