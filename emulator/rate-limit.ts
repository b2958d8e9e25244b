import type { RateLimit, RateLimits, ServiceName } from './types.js';

/** No limit on either service: the emulator's default. */
export const NO_RATE_LIMITS: Readonly<RateLimits> = { iam: null, sts: null };

/**
 * A token bucket as IAM and STS describe theirs: it holds up to `burst` tokens, gains `rate`
 * a second, and each request takes one. It has no clock of its own: every call says what time
 * it is, so tests drive it with the emulator's clock.
 */
export class TokenBucket {
  // Counted in thousandths of a token so that whole-number rates refill by whole numbers
  // per millisecond: no floating-point sum ever falls a hair short of a token.
  private credit: number;
  private readonly capacity: number;
  private lastMs: number | null = null;

  constructor(readonly limit: RateLimit) {
    this.capacity = limit.burst * 1000;
    this.credit = this.capacity;
  }

  /** Takes a token at `nowMs` if there is one; `false` means the request is throttled. */
  tryTake(nowMs: number): boolean {
    if (this.lastMs === null || nowMs > this.lastMs) {
      // A clock stepping backwards refills nothing; refill resumes from the latest time seen.
      if (this.lastMs !== null) this.credit = Math.min(this.capacity, this.credit + (nowMs - this.lastMs) * this.limit.rate);
      this.lastMs = nowMs;
    }
    if (this.credit < 1000) return false;
    this.credit -= 1000;
    return true;
  }
}

/**
 * One bucket per service of the emulated account (the emulator holds one account, so this is
 * one bucket per service per emulator), as IAM and STS throttle independently.
 */
export class RateLimiter {
  private limits: RateLimits;
  private readonly buckets = new Map<ServiceName, TokenBucket>();

  constructor(private readonly initial: RateLimits = NO_RATE_LIMITS) {
    this.limits = { ...initial };
    this.refill();
  }

  get(): RateLimits {
    return { iam: this.limits.iam && { ...this.limits.iam }, sts: this.limits.sts && { ...this.limits.sts } };
  }

  /** Replaces the limit of the services named in `changes`; their buckets start full. */
  set(changes: Partial<RateLimits>): RateLimits {
    for (const service of ['iam', 'sts'] as const) {
      const limit = changes[service];
      if (limit === undefined) continue;
      this.limits[service] = limit;
      if (limit === null) this.buckets.delete(service);
      else this.buckets.set(service, new TokenBucket(limit));
    }
    return this.get();
  }

  /** Whether a request to `service` at `nowMs` may go on; a service without a limit always may. */
  tryTake(service: ServiceName, nowMs: number): boolean {
    return this.buckets.get(service)?.tryTake(nowMs) ?? true;
  }

  /** Back to the limits the emulator started with, buckets full. */
  reset(): void {
    this.limits = { ...this.initial };
    this.refill();
  }

  private refill(): void {
    this.buckets.clear();
    this.set(this.limits);
  }
}
