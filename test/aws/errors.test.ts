import { describe, expect, it } from 'vitest';
import { describeAwsError, formatIamPolicy, getMfaRefusal, isExplicitDeny, isKeyRefused, isRetryableAwsError, KEYUP_IAM_ACTIONS } from '../../src/aws/errors.js';
import { ExitCode } from '../../src/errors.js';

/** What the SDK throws: an Error named after the AWS code, with the HTTP status in $metadata. */
function awsError(name: string, status: number, extra: Record<string, unknown> = {}): Error {
  return Object.assign(new Error(`${name} from AWS`), { name, $metadata: { httpStatusCode: status }, ...extra });
}

describe('describeAwsError', () => {
  const ctx = { action: 'iam:CreateAccessKey' as const, profile: 'work', maskedKeyId: 'AKIA…WXYZ', userName: 'alice' };

  it('names the refused action and prints a policy that grants it for AccessDenied', () => {
    const error = describeAwsError(awsError('AccessDenied', 403), ctx);
    expect(error.message).toBe('IAM refused iam:CreateAccessKey on user alice for profile work: its identity is not allowed to call it.');
    expect(error.hint).toContain('allows iam:CreateAccessKey');
    const policy = JSON.parse(error.hint!.slice(error.hint!.indexOf('{'))) as { Statement: { Action: string[]; Resource: string }[] };
    expect(policy.Statement[0]!.Action).toEqual([...KEYUP_IAM_ACTIONS]);
    expect(policy.Statement[0]!.Resource).toBe('arn:aws:iam::*:user/${aws:username}');
    expect(error.exitCode).toBe(ExitCode.failed);
  });

  it('says an explicit deny as such: no Allow can lift it, and MFA may', () => {
    const denied = awsError('AccessDenied', 403, {
      message:
        'User: arn:aws:iam::123456789012:user/alice is not authorized to perform: iam:CreateAccessKey on resource: user alice with an explicit deny in an identity-based policy: arn:aws:iam::123456789012:policy/Force_MFA',
    });
    const error = describeAwsError(denied, ctx);
    expect(error.code).toBe('access-denied');
    expect(error.message).toBe('IAM refused iam:CreateAccessKey on user alice for profile work with an explicit deny: a Deny statement in a policy forbids it, whatever the Allows say.');
    expect(error.hint).toContain('MFA device');
    expect(error.hint).not.toContain('"Effect":"Allow"');
  });

  it('gives a manage_with identity a policy on the other user', () => {
    const error = describeAwsError(awsError('AccessDenied', 403), { ...ctx, otherUserArn: 'arn:aws:iam::123456789012:user/ci/bot' });
    expect(error.hint).toContain('"Resource":"arn:aws:iam::123456789012:user/ci/bot"');
  });

  it.each([
    ['InvalidClientTokenId', 403, 'AWS does not accept the key AKIA…WXYZ in profile work: it is unknown, inactive or deleted.'],
    ['SignatureDoesNotMatch', 403, 'AWS rejected the signature of the key AKIA…WXYZ in profile work'],
    ['ExpiredToken', 403, 'AWS says the credentials of profile work have expired.'],
    ['NoSuchEntityException', 404, 'IAM has no such user or key for user alice (iam:CreateAccessKey).'],
    ['LimitExceededException', 409, 'IAM user alice already has two access keys, the most IAM allows.'],
    ['Throttling', 400, 'IAM kept throttling iam:CreateAccessKey for profile work.'],
    ['ServiceUnavailable', 503, 'AWS failed iam:CreateAccessKey with a server error (HTTP 503).'],
    ['TimeoutError', 0, 'AWS did not answer iam:CreateAccessKey for profile work.'],
  ])('says %s in one sentence with a fix', (name, status, message) => {
    const cause = awsError(name, status);
    const error = describeAwsError(cause, ctx);
    expect(error.message.startsWith(message)).toBe(true);
    expect(error.hint).toMatch(/\S/);
    expect(error.cause).toBe(cause);
  });

  it('never repeats what AWS said, which may quote request details', () => {
    const error = describeAwsError(awsError('SomethingNew', 400, { message: 'string to sign: secret-ish' }), ctx);
    expect(error.userMessage).not.toContain('secret-ish');
    expect(error.message).toBe('iam:CreateAccessKey failed for profile work (SomethingNew).');
  });
});

describe('AccessDenied, told apart by its wording as AWS words it', () => {
  const denied = (message: string) => awsError('AccessDenied', 403, { message });

  it('an explicit deny, with or without the policy ARN AWS now adds', () => {
    const base = 'User: arn:aws:iam::123456789012:user/alice is not authorized to perform: iam:ListAccessKeys on resource: user alice with an explicit deny in an identity-based policy';
    expect(isExplicitDeny(denied(base))).toBe(true);
    expect(isExplicitDeny(denied(`${base}: arn:aws:iam::123456789012:policy/Force_MFA`))).toBe(true);
    expect(isExplicitDeny(denied('User: arn:aws:iam::123456789012:user/alice is not authorized to perform: iam:ListAccessKeys on resource: user bob because no identity-based policy allows the iam:ListAccessKeys action'))).toBe(false);
    expect(isExplicitDeny(awsError('InvalidClientTokenId', 403, { message: 'with an explicit deny' }))).toBe(false);
  });

  it("STS's refusal of an MFA code, and of a device it cannot use", () => {
    expect(getMfaRefusal(denied('MultiFactorAuthentication failed with invalid MFA one time pass code.'))).toBe('code');
    expect(getMfaRefusal(denied('MultiFactorAuthentication failed, unable to validate MFA code.  Please verify your MFA serial number is valid and associated with this user.'))).toBe('device');
    expect(getMfaRefusal(denied('User: arn:aws:iam::123456789012:user/alice is not authorized to perform: sts:GetSessionToken'))).toBeUndefined();
  });
});

describe('error classes', () => {
  it('retries throttling, server faults and network errors but never a full key quota', () => {
    expect(isRetryableAwsError(awsError('Throttling', 400))).toBe(true);
    expect(isRetryableAwsError(awsError('InternalFailure', 500))).toBe(true);
    expect(isRetryableAwsError(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }))).toBe(true);
    expect(isRetryableAwsError(awsError('TimeoutError', 0))).toBe(true);
    expect(isRetryableAwsError(awsError('LimitExceededException', 409))).toBe(false);
    expect(isRetryableAwsError(awsError('AccessDenied', 403))).toBe(false);
  });

  it('knows the refusals a not-yet-propagated key gets', () => {
    expect(isKeyRefused(awsError('InvalidClientTokenId', 403))).toBe(true);
    expect(isKeyRefused(awsError('SignatureDoesNotMatch', 403))).toBe(true);
    expect(isKeyRefused(awsError('AccessDenied', 403))).toBe(false);
  });

  it('formats the default policy on the signing user itself', () => {
    expect(formatIamPolicy()).toContain('"Resource":"arn:aws:iam::*:user/${aws:username}"');
  });
});

describe('describeAwsError codes', () => {
  const ctx = { action: 'iam:ListAccessKeys' as const, profile: 'work', maskedKeyId: 'AKIA…WXYZ', userName: 'alice' };
  const awsError = (name: string, status: number, extra: Record<string, unknown> = {}) => Object.assign(new Error(name), { name, $metadata: { httpStatusCode: status }, ...extra });

  it.each([
    ['AccessDenied', 403, 'access-denied'],
    ['InvalidClientTokenId', 403, 'key-invalid'],
    ['SignatureDoesNotMatch', 403, 'key-invalid'],
    ['ExpiredToken', 403, 'key-invalid'],
    ['LimitExceededException', 409, 'second-active-key'],
    ['Throttling', 400, 'aws-unavailable'],
    ['InternalFailure', 500, 'aws-unavailable'],
    ['TimeoutError', 0, 'network'],
    ['SomethingNew', 400, 'aws-error'],
  ])('gives %s the stable code %s', (name, status, code) => {
    expect(describeAwsError(awsError(name, status), ctx).code).toBe(code);
  });

  // Issue 8: a network failure names the endpoint that did not answer.
  it('names the endpoint that did not answer', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED', endpoint: 'https://iam.amazonaws.com' });
    expect(describeAwsError(refused, ctx).message).toBe('AWS did not answer iam:ListAccessKeys for profile work at https://iam.amazonaws.com.');
  });
});

