import { isRetryableAwsError } from './errors.js';

export interface RetryInit {
  /** Attempts in all, the first included. Default 6. */
  attempts?: number;
  /** First backoff ceiling; it doubles each time. Default 200 ms. */
  baseDelayMs?: number;
  /** Largest backoff ceiling. Default 10 s. */
  maxDelayMs?: number;
  /** Which errors are worth another try. Default: throttling, 5xx, timeouts and network errors. */
  isRetryable?: (error: unknown) => boolean;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Ends the waiting and the attempts at once (shutdown). */
  signal?: AbortSignal;
  /** In [0, 1). */
  random?: () => number;
  /** Told before each wait, e.g. to log it. */
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
}

/** Waits `ms`, or rejects with the signal's reason as soon as it aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal === undefined) return new Promise((resolve) => setTimeout(resolve, ms));
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason as Error);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason as Error);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Exponential backoff with full jitter (spreads many clients' retries apart, as AWS
 * recommends), bounded in attempts. The last error is thrown unchanged.
 */
export async function retry<T>(
  call: (attempt: number) => Promise<T>,
  {
    attempts = 6,
    baseDelayMs = 200,
    maxDelayMs = 10_000,
    isRetryable = isRetryableAwsError,
    sleep: wait = sleep,
    signal,
    random = Math.random,
    onRetry,
  }: RetryInit = {},
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    signal?.throwIfAborted();
    try {
      return await call(attempt);
    } catch (error) {
      if (attempt >= attempts || !isRetryable(error) || signal?.aborted === true) throw error;
      const ceiling = Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1));
      const delayMs = Math.floor(random() * ceiling);
      onRetry?.(error, attempt, delayMs);
      await wait(delayMs, signal);
    }
  }
}
