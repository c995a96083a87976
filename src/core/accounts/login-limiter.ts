// Rate limiting of failed logins per user name and per client address.
import type { Clock } from '../ports/clock.js';

export interface LoginLimits {
  /** Failures allowed within the window before further attempts are refused. */
  maxFailures: number;
  windowMs: number;
}

export const DEFAULT_LOGIN_LIMITS: LoginLimits = { maxFailures: 10, windowMs: 15 * 60_000 };

/**
 * Counts failed logins per (user, address) and per address across users, so neither guessing
 * one account's password nor spraying many accounts from one address gets far. Memory is
 * bounded: entries expire with their window and the table is capped.
 */
export class LoginLimiter {
  private readonly failures = new Map<string, number[]>();

  constructor(
    private readonly clock: Clock,
    private readonly limits: LoginLimits = DEFAULT_LOGIN_LIMITS,
  ) {}

  /** Seconds until the next attempt is allowed, or 0 if it is allowed now. */
  retryAfter(user: string, address: string): number {
    const now = this.clock.now();
    let wait = 0;
    for (const [k, max] of this.keys(user, address)) {
      const list = this.recent(k, now);
      if (list.length >= max) wait = Math.max(wait, Math.ceil((list[0] + this.limits.windowMs - now) / 1000));
    }
    return wait;
  }

  recordFailure(user: string, address: string): void {
    const now = this.clock.now();
    if (this.failures.size > 100_000) this.failures.clear();
    for (const [k] of this.keys(user, address)) {
      const list = this.recent(k, now);
      list.push(now);
      this.failures.set(k, list);
    }
  }

  recordSuccess(user: string, address: string): void {
    this.failures.delete(`u:${user}\u0000${address}`);
  }

  private keys(user: string, address: string): Array<[string, number]> {
    return [
      [`u:${user}\u0000${address}`, this.limits.maxFailures],
      [`a:${address}`, this.limits.maxFailures * 5],
    ];
  }

  private recent(k: string, now: number): number[] {
    const list = (this.failures.get(k) ?? []).filter((t) => t > now - this.limits.windowMs);
    if (list.length === 0) this.failures.delete(k);
    return list;
  }
}
