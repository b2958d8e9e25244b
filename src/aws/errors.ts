import { KeyupError, type ErrorCode } from '../errors.js';
import { getUnansweredEndpoint } from './key-api.js';

/** The IAM actions keyup calls, and no other; `sts:GetCallerIdentity` needs no permission. */
export const KEYUP_IAM_ACTIONS = [
  'iam:ListAccessKeys',
  'iam:CreateAccessKey',
  'iam:UpdateAccessKey',
  'iam:DeleteAccessKey',
  'iam:GetAccessKeyLastUsed',
] as const;
export type IamAction = (typeof KEYUP_IAM_ACTIONS)[number];
export type AwsAction = IamAction | 'sts:GetCallerIdentity' | 'iam:ListMFADevices' | 'sts:GetSessionToken';

/**
 * The least policy keyup needs, as one line of JSON. By default a user may manage only its own
 * keys; a `manage_with` identity needs the other user's ARN as the resource.
 */
export function formatIamPolicy(resource = 'arn:aws:iam::*:user/${aws:username}'): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Action: [...KEYUP_IAM_ACTIONS], Resource: resource }],
  });
}

interface AwsErrorShape {
  name?: string;
  message?: string;
  code?: string;
  $metadata?: { httpStatusCode?: number };
}

function shapeOf(error: unknown): AwsErrorShape {
  return typeof error === 'object' && error !== null ? (error as AwsErrorShape) : {};
}

/** The AWS error code, whether the SDK modelled it (`NoSuchEntityException`) or not (`Throttling`). */
export function getAwsErrorCode(error: unknown): string | undefined {
  const name = shapeOf(error).name;
  return name?.replace(/Exception$/, '');
}

const THROTTLING_CODES = new Set(['Throttling', 'RequestLimitExceeded', 'TooManyRequests', 'RequestThrottled', 'SlowDown']);
const NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ENOTFOUND']);

export function isThrottling(error: unknown): boolean {
  const code = getAwsErrorCode(error);
  return (code !== undefined && THROTTLING_CODES.has(code)) || shapeOf(error).$metadata?.httpStatusCode === 429;
}

/** The call may not have reached AWS, or AWS may have acted on it without our seeing the answer. */
export function isNetworkOrTimeout(error: unknown): boolean {
  const { name, code } = shapeOf(error);
  return name === 'TimeoutError' || (code !== undefined && NETWORK_CODES.has(code));
}

export function isServerFault(error: unknown): boolean {
  const status = shapeOf(error).$metadata?.httpStatusCode;
  return status !== undefined && status >= 500 && status <= 599;
}

/**
 * Worth another try with backoff. IAM's `LimitExceeded` is deliberately not here although the
 * SDK's own retry counts it as throttling: for keyup it means two keys, which waiting never fixes.
 */
export function isRetryableAwsError(error: unknown): boolean {
  return isThrottling(error) || isNetworkOrTimeout(error) || isServerFault(error);
}

/** IAM says the key or its signature is unknown: a brand-new key may simply not have propagated. */
export function isKeyRefused(error: unknown): boolean {
  const code = getAwsErrorCode(error);
  return code === 'InvalidClientTokenId' || code === 'SignatureDoesNotMatch' || code === 'AuthFailure';
}

/**
 * IAM refused with a Deny statement, not for want of an Allow: AWS says "… with an explicit deny
 * in an identity-based policy" (or a service control policy, a permissions boundary …). AWS's
 * force-MFA policy denies this way; no Allow added anywhere can lift it.
 */
export function isExplicitDeny(error: unknown): boolean {
  return getAwsErrorCode(error) === 'AccessDenied' && /\bwith an explicit deny\b/i.test(shapeOf(error).message ?? '');
}

/**
 * STS refused GetSessionToken's MFA code or device: "MultiFactorAuthentication failed with invalid
 * MFA one time pass code." (a wrong or reused code) or "MultiFactorAuthentication failed, unable
 * to validate MFA code. …" (a serial that is no TOTP device of the user). `'device'` for the second.
 */
export function getMfaRefusal(error: unknown): 'code' | 'device' | undefined {
  if (getAwsErrorCode(error) !== 'AccessDenied') return undefined;
  const message = shapeOf(error).message ?? '';
  if (!/MultiFactorAuthentication failed/i.test(message)) return undefined;
  return /unable to validate/i.test(message) ? 'device' : 'code';
}

export interface AwsErrorContext {
  action: AwsAction;
  /** The profile whose key signed the call. */
  profile: string;
  /** The masked key id that signed the call. */
  maskedKeyId?: string;
  /** The IAM user the call acted on, when it is known. */
  userName?: string;
  /** Set when the call acts on another user's keys (`manage_with`): that user's ARN, for the policy. */
  otherUserArn?: string;
}

/**
 * One plain sentence for a failed AWS call, with the fix as the hint. AWS's own message is not
 * repeated: it can quote request details, and the code and cause are kept on the error anyway.
 */
export function describeAwsError(error: unknown, ctx: AwsErrorContext): KeyupError {
  const code = getAwsErrorCode(error);
  const key = ctx.maskedKeyId === undefined ? `the key in profile ${ctx.profile}` : `the key ${ctx.maskedKeyId} in profile ${ctx.profile}`;
  const make = (code: ErrorCode, message: string, hint: string) => new KeyupError(message, { code, hint, cause: error });

  switch (code) {
    case 'AccessDenied': {
      if (isExplicitDeny(error)) {
        return make(
          'access-denied',
          `IAM refused ${ctx.action}${ctx.userName === undefined ? '' : ` on user ${ctx.userName}`} for profile ${ctx.profile} with an explicit deny: a Deny statement in a policy forbids it, whatever the Allows say.`,
          'If the Deny demands MFA, add an MFA device to the user and run keyupctl rotate now, which asks for its code; otherwise the Deny must change.',
        );
      }
      const target = ctx.userName === undefined ? '' : ` on user ${ctx.userName}`;
      return make(
        'access-denied',
        `IAM refused ${ctx.action}${target} for profile ${ctx.profile}: its identity is not allowed to call it.`,
        `Attach a policy that allows ${ctx.action} to that identity, for example: ${formatIamPolicy(ctx.otherUserArn)}`,
      );
    }
    case 'InvalidClientTokenId':
    case 'AuthFailure':
      return make(
        'key-invalid',
        `AWS does not accept ${key}: it is unknown, inactive or deleted.`,
        `Put a working access key in profile ${ctx.profile} (aws configure --profile ${ctx.profile}).`,
      );
    case 'SignatureDoesNotMatch':
      return make(
        'key-invalid',
        `AWS rejected the signature of ${key}: the secret access key does not belong to that key id, or this machine's clock is wrong.`,
        `Check the secret in profile ${ctx.profile} and that the system clock is correct.`,
      );
    case 'ExpiredToken':
    case 'RequestExpired':
      return make('key-invalid', `AWS says the credentials of profile ${ctx.profile} have expired.`, `Refresh the session of profile ${ctx.profile}.`);
    case 'NoSuchEntity':
      return make(
        'profile-unusable',
        `IAM has no such user or key${ctx.userName === undefined ? '' : ` for user ${ctx.userName}`} (${ctx.action}).`,
        'Check that the user still exists and that the profile holds its current key.',
      );
    case 'LimitExceeded':
      return make(
        'second-active-key',
        `IAM user ${ctx.userName ?? 'of profile ' + ctx.profile} already has two access keys, the most IAM allows.`,
        'Delete the key that is not in use (aws iam delete-access-key) and try again.',
      );
  }
  if (isThrottling(error)) {
    return make('aws-unavailable', `IAM kept throttling ${ctx.action} for profile ${ctx.profile}.`, 'keyup tries again at the next check; nothing needs doing.');
  }
  if (isServerFault(error)) {
    const status = shapeOf(error).$metadata?.httpStatusCode;
    return make('aws-unavailable', `AWS failed ${ctx.action} with a server error (HTTP ${status}).`, 'keyup tries again at the next check; nothing needs doing.');
  }
  if (isNetworkOrTimeout(error)) {
    const endpoint = getUnansweredEndpoint(error);
    return make(
      'network',
      `AWS did not answer ${ctx.action} for profile ${ctx.profile}${endpoint === undefined ? '' : ` at ${endpoint}`}.`,
      'Check the network connection, a proxy (HTTPS_PROXY) or an AWS_ENDPOINT_URL setting.',
    );
  }
  return make('aws-error', `${ctx.action} failed for profile ${ctx.profile} (${code ?? 'unknown error'}).`, 'Run again with --debug for details.');
}
