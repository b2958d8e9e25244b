import { isKeyRefused, isRetryableAwsError, isThrottling } from '../aws/errors.js';
import type { AwsCredentials, KeyApi } from '../aws/key-api.js';
import { KeyupError } from '../errors.js';

export interface VerifyInit {
  keyApi: KeyApi;
  now: () => Date;
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  random?: () => number;
  region?: string;
  /** Ends every wait and call at once; the rotation resumes from its journal. */
  signal?: AbortSignal;
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
  onAttempt?: (outcome: VerifyAttempt, streak: number) => void;
}

/**
 * What one STS call said of the new key: it works, IAM has not spread it yet, or the call did
 * not get an answer about the key at all (throttled, a 5xx, the network).
 */
export type VerifyAttempt = 'accepted' | 'refused' | 'unanswered';

/** Why a new key was not seen to work; the rotation is undone. */
export class KeyNotVerifiedError extends KeyupError {}

/**
 * Waits until STS GetCallerIdentity with the new key returns `expectedArn` several times in a
 * row. Most new keys are refused for the first second and a few still are at five seconds;
 * refusals are waited out with backoff, up to the bound. A call that got no answer about the
 * key (throttled, a server error) says nothing either way: it neither counts nor breaks the
 * streak, so a busy STS does not make keyup start counting again.
 */
export async function verifyNewKey(credentials: AwsCredentials, expectedArn: string, init: VerifyInit): Promise<void> {
  const {
    keyApi,
    now,
    sleep,
    random = Math.random,
    region,
    signal,
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
    signal?.throwIfAborted();
    let delay: number;
    try {
      const identity = await keyApi.getCallerIdentity({ credentials, region, ...(signal === undefined ? {} : { signal }) });
      if (identity.arn !== expectedArn) {
        // Never retire a key in favour of one that belongs to someone else.
        throw new KeyNotVerifiedError(`The new key answers as ${identity.arn}, not as ${expectedArn}.`, {
          code: 'key-not-verified',
          hint: 'Nothing was changed in the credentials file; check which user the profile belongs to.',
        });
      }
      streak++;
      onAttempt?.('accepted', streak);
      if (streak >= consecutive) return;
      backoff = initialDelayMs;
      delay = confirmDelayMs;
    } catch (error) {
      if (error instanceof KeyNotVerifiedError || signal?.aborted === true) throw error;
      if (!isKeyRefused(error) && !isRetryableAwsError(error)) throw error;
      lastError = error;
      if (isKeyRefused(error)) {
        streak = 0;
        onAttempt?.('refused', streak);
      } else {
        onAttempt?.('unanswered', streak);
      }
      // A throttled STS wants more room than a refusal does.
      const ceiling = isThrottling(error) ? Math.max(backoff, confirmDelayMs) : backoff;
      delay = Math.floor(ceiling / 2 + random() * (ceiling / 2));
      backoff = Math.min(maxDelayMs, backoff * 2);
    }
    if (now().getTime() + delay > deadline) break;
    await sleep(delay, signal);
  }
  throw new KeyNotVerifiedError(`The new key was not accepted by AWS within ${Math.round(timeoutMs / 1000)} seconds.`, {
    code: 'key-not-verified',
    hint: 'The old key stays in use; keyup tries again at the next check.',
    cause: lastError,
  });
}
