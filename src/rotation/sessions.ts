import { getAwsErrorCode, isKeyRefused } from '../aws/errors.js';
import type { KeyApi } from '../aws/key-api.js';
import { retry, type RetryInit } from '../aws/retry.js';
import type { Deferral } from '../engine/outcome.js';

/** A profile of the credentials file that holds temporary credentials. */
export interface SessionProfile {
  readonly name: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
  /** From `aws_expiration` and its kin, when the file says. */
  readonly expiresAt?: Date;
}

/** Why to defer, and, when STS could not be asked, what stopped it (for the log). */
export interface FoundSession {
  readonly deferral: Deferral;
  readonly cause?: unknown;
}

export interface FindActiveSessionInit {
  keyApi: KeyApi;
  now: Date;
  region?: string;
  retryInit?: RetryInit;
}

/**
 * The first session in the credentials file that STS still accepts, as the reason to defer a
 * rotation: someone is working with it, and a rotation must never break their work. A token
 * STS refuses (expired, revoked) does not defer. When STS cannot be asked, defer and say so
 * rather than guess.
 */
export async function findActiveSession(sessions: readonly SessionProfile[], { keyApi, now, region, retryInit }: FindActiveSessionInit): Promise<FoundSession | undefined> {
  for (const session of sessions) {
    // The file's own expiry is trusted only to skip a call: a past date cannot come back.
    if (session.expiresAt !== undefined && session.expiresAt.getTime() <= now.getTime()) continue;
    const { accessKeyId, secretAccessKey, sessionToken } = session;
    try {
      const signal = retryInit?.signal;
      await retry(() => keyApi.getCallerIdentity({ credentials: { accessKeyId, secretAccessKey, sessionToken }, region, ...(signal === undefined ? {} : { signal }) }), retryInit);
      return { deferral: { reason: 'active-session', profile: session.name, until: session.expiresAt?.toISOString() ?? null } };
    } catch (error) {
      if (retryInit?.signal?.aborted === true) throw error;
      if (isSessionRefused(error)) continue;
      return { deferral: { reason: 'sts-unreachable', profile: session.name, until: null }, cause: error };
    }
  }
  return undefined;
}

function isSessionRefused(error: unknown): boolean {
  const code = getAwsErrorCode(error);
  return isKeyRefused(error) || code === 'ExpiredToken' || code === 'RequestExpired' || code === 'InvalidToken';
}
