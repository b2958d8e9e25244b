import type { KeyApi } from './key-api.js';
import { sleep as realSleep } from './retry.js';

export interface RateLimit {
  /** Calls per second, on average. */
  readonly perSecond: number;
  /** How many may go at once after a quiet spell. */
  readonly burst: number;
}

export interface RateLimitInit extends RateLimit {
  now?: () => number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/**
 * A token bucket shared by every caller: `take()` resolves when a call may go. Callers wait in
 * the order they asked, so none starves; a caller's signal ends its wait at once.
 */
export class TokenBucket {
  private tokens: number;
  private updatedAt: number;
  private queue: Promise<void> = Promise.resolve();
  private readonly perSecond: number;
  private readonly burst: number;
  private readonly now: () => number;
  private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;

  constructor({ perSecond, burst, now = Date.now, sleep = realSleep }: RateLimitInit) {
    this.perSecond = perSecond;
    this.burst = Math.max(1, burst);
    this.now = now;
    this.sleep = sleep;
    this.tokens = this.burst;
    this.updatedAt = now();
  }

  take(signal?: AbortSignal): Promise<void> {
    const turn = this.queue.then(() => this.takeOne(signal));
    // The next caller waits for this one's turn, not for its success.
    this.queue = turn.catch(() => undefined);
    return turn;
  }

  private async takeOne(signal: AbortSignal | undefined): Promise<void> {
    for (;;) {
      signal?.throwIfAborted();
      const now = this.now();
      this.tokens = Math.min(this.burst, this.tokens + ((now - this.updatedAt) / 1000) * this.perSecond);
      this.updatedAt = now;
      if (this.tokens >= 1) {
        this.tokens -= 1;
        return;
      }
      await this.sleep(Math.ceil(((1 - this.tokens) / this.perSecond) * 1000), signal);
    }
  }
}

/**
 * The KeyApi with IAM's calls paced through one bucket: many profiles rotating at once stay
 * under IAM's request rate instead of meeting its throttling and backing off. STS, whose limits
 * are far higher, is not paced.
 */
export function limitIamRate(keyApi: KeyApi, bucket: TokenBucket): KeyApi {
  return {
    release: () => keyApi.release?.(),
    getCallerIdentity: (ctx) => keyApi.getCallerIdentity(ctx),
    listAccessKeys: async (ctx, userName) => {
      await bucket.take(ctx.signal);
      return keyApi.listAccessKeys(ctx, userName);
    },
    createAccessKey: async (ctx, userName) => {
      await bucket.take(ctx.signal);
      return keyApi.createAccessKey(ctx, userName);
    },
    updateAccessKey: async (ctx, accessKeyId, status, userName) => {
      await bucket.take(ctx.signal);
      return keyApi.updateAccessKey(ctx, accessKeyId, status, userName);
    },
    deleteAccessKey: async (ctx, accessKeyId, userName) => {
      await bucket.take(ctx.signal);
      return keyApi.deleteAccessKey(ctx, accessKeyId, userName);
    },
    getAccessKeyLastUsed: async (ctx, accessKeyId) => {
      await bucket.take(ctx.signal);
      return keyApi.getAccessKeyLastUsed(ctx, accessKeyId);
    },
    listMfaDevices: async (ctx, userName) => {
      await bucket.take(ctx.signal);
      return keyApi.listMfaDevices(ctx, userName);
    },
    getSessionToken: (ctx, request) => keyApi.getSessionToken(ctx, request),
  };
}
