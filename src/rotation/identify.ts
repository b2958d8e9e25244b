import { describeAwsError, isKeyRefused } from '../aws/errors.js';
import type { AwsCredentials, CallerIdentity, KeyApi } from '../aws/key-api.js';
import { retry, type RetryInit } from '../aws/retry.js';
import { KeyupError } from '../errors.js';
import { maskKeyId } from '../present/key-id.js';

/** The identity behind a key, when it is an IAM user (the only kind whose keys keyup manages). */
export type IamUser = CallerIdentity & { readonly userName: string };

/**
 * Whose key the profile holds, from STS (which needs no permission): the IAM user, or one
 * sentence with the fix when AWS does not take the key or it is not an IAM user's. A stop on
 * purpose (`retryInit.signal`) comes through as it is. A rotation and `keyupctl keys` both ask
 * this first, and say the same.
 */
export async function identifyIamUser(keyApi: KeyApi, profile: string, credentials: AwsCredentials, { region, retryInit = {} }: { region?: string; retryInit?: RetryInit } = {}): Promise<IamUser> {
  const { signal } = retryInit;
  let identity: CallerIdentity;
  try {
    identity = await retry(() => keyApi.getCallerIdentity({ credentials, ...(region === undefined ? {} : { region }), ...(signal === undefined ? {} : { signal }) }), retryInit);
  } catch (error) {
    if (isAbort(error, signal)) throw error;
    if (isKeyRefused(error)) {
      throw new KeyupError(`The key ${maskKeyId(credentials.accessKeyId)} in profile ${profile} is not valid: AWS does not accept it.`, {
        code: 'key-invalid',
        hint: `Put a working access key in profile ${profile} (aws configure --profile ${profile}).`,
        cause: error,
      });
    }
    throw describeAwsError(error, { action: 'sts:GetCallerIdentity', profile, maskedKeyId: maskKeyId(credentials.accessKeyId) });
  }
  const { userName } = identity;
  if (userName === undefined) {
    throw new KeyupError(`The key in profile ${profile} belongs to ${identity.arn}, which is not an IAM user.`, {
      code: 'not-an-iam-user',
      hint: 'keyup rotates only the access keys of IAM users; remove this profile from its configuration.',
    });
  }
  return { ...identity, userName };
}

/** The call was stopped on purpose (the signal fired), not by a failure. */
export function isAbort(error: unknown, signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true && (error === signal.reason || (error instanceof Error && (error.name === 'AbortError' || error.name === 'TimeoutError')));
}
