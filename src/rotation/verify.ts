import { isKeyRefused, isRetryableAwsError } from '../aws/errors.js';
import type { AwsCredentials, KeyApi } from '../aws/key-api.js';
import { KeyupError } from '../errors.js';

export interface VerifyInit {
  keyApi: KeyApi;
  now: () => Date;
  sleep: (ms: number) => Promise<void>;
  random?: () => number;
  region?: string;
  /**
   * Successes in a row that count as "works": IAM is eventually consistent, and a key STS
   * accepted once has been refused by the very next call. Default 3.
   */
  consecutive?: number;
  /** Give up after this long. Default 60 s. */
  timeoutMs?: number;
  /** Pause between successes, so they are spread over time. Default 1 s. */
  confirmDelayMs?: number;
  /** Backoff after a refusal, doubling up to maxDelayMs. Default 500 ms and 5 s. */
  initialDelayMs?: number;
  maxDelayMs?: number;
  onAttempt?: (outcome: 'accepted' | 'refused' | 'error', streak: number) => void;
}

/** Why a new key was not seen to work; the rotation is undone. */
export class KeyNotVerifiedError extends KeyupError {}

/**
 * Waits until STS GetCallerIdentity with the new key returns `expectedArn` several times in a
 * row. Most new keys are refused for the first second and a few still are at five seconds;
 * refusals and transient errors are waited out with backoff, up to the bound.
 */
export async function verifyNewKey(credentials: AwsCredentials, expectedArn: string, init: VerifyInit): Promise<void> {
  const {
    keyApi,
    now,
    sleep,
    random = Math.random,
    region,
    consecutive = 3,
    timeoutMs = 60_000,
    confirmDelayMs = 1_000,
    initialDelayMs = 500,
    maxDelayMs = 5_000,
    onAttempt,
  } = init;
  const deadline = now().getTime() + timeoutMs;
  let streak = 0;
  let backoff = initialDelayMs;
  let lastError: unknown;
  for (;;) {
    try {
      const identity = await keyApi.getCallerIdentity({ credentials, region });
      if (identity.arn !== expectedArn) {
        // Never retire a key in favour of one that belongs to someone else.
        throw new KeyNotVerifiedError(`The new key answers as ${identity.arn}, not as ${expectedArn}.`, {
          hint: 'Nothing was changed in the credentials file; check which user the profile belongs to.',
        });
      }
      streak++;
      onAttempt?.('accepted', streak);
      if (streak >= consecutive) return;
      backoff = initialDelayMs;
      if (now().getTime() + confirmDelayMs > deadline) break;
      await sleep(confirmDelayMs);
      continue;
    } catch (error) {
      if (error instanceof KeyNotVerifiedError) throw error;
      if (!isKeyRefused(error) && !isRetryableAwsError(error)) throw error;
      lastError = error;
      streak = 0;
      onAttempt?.(isKeyRefused(error) ? 'refused' : 'error', streak);
    }
    const delay = Math.floor(backoff / 2 + random() * (backoff / 2));
    if (now().getTime() + delay > deadline) break;
    await sleep(delay);
    backoff = Math.min(maxDelayMs, backoff * 2);
  }
  throw new KeyNotVerifiedError(`The new key was not accepted by AWS within ${Math.round(timeoutMs / 1000)} seconds.`, {
    hint: 'The old key stays in use; keyup tries again at the next check.',
    cause: lastError,
  });
}
