import { getAwsErrorCode, isKeyRefused } from '../aws/errors.js';
import type { KeyApi } from '../aws/key-api.js';
import { retry, type RetryInit } from '../aws/retry.js';

/** A profile of the credentials file that holds temporary credentials. */
export interface SessionProfile {
  readonly name: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
  /** From `aws_expiration` and its kin, when the file says. */
  readonly expiresAt?: Date;
}

export type Deferral =
  | { readonly reason: 'active-session'; readonly profile: string; readonly until: Date | undefined }
  | { readonly reason: 'sts-unreachable'; readonly profile: string; readonly until: undefined; readonly cause: unknown };

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
export async function findActiveSession(sessions: readonly SessionProfile[], { keyApi, now, region, retryInit }: FindActiveSessionInit): Promise<Deferral | undefined> {
  for (const session of sessions) {
    // The file's own expiry is trusted only to skip a call: a past date cannot come back.
    if (session.expiresAt !== undefined && session.expiresAt.getTime() <= now.getTime()) continue;
    const { accessKeyId, secretAccessKey, sessionToken } = session;
    try {
      await retry(() => keyApi.getCallerIdentity({ credentials: { accessKeyId, secretAccessKey, sessionToken }, region }), retryInit);
      return { reason: 'active-session', profile: session.name, until: session.expiresAt };
    } catch (error) {
      if (isSessionRefused(error)) continue;
      return { reason: 'sts-unreachable', profile: session.name, until: undefined, cause: error };
    }
  }
  return undefined;
}

function isSessionRefused(error: unknown): boolean {
  const code = getAwsErrorCode(error);
  return isKeyRefused(error) || code === 'ExpiredToken' || code === 'RequestExpired' || code === 'InvalidToken';
}
