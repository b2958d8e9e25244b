/**
 * The errors IAM and STS answer with, by code, HTTP status and message as AWS words them,
 * because SDKs map the code to an exception name and keyup decides on it.
 */
export class AwsError extends Error {
  readonly type: 'Sender' | 'Receiver';

  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'AwsError';
    this.type = status >= 500 ? 'Receiver' : 'Sender';
  }
}

export function missingAuthenticationToken(): AwsError {
  return new AwsError('MissingAuthenticationToken', 403, 'Request is missing Authentication Token');
}

export function incompleteSignature(problems: readonly string[], authorization: string): AwsError {
  return new AwsError('IncompleteSignature', 400, `${problems.join(' ')} Authorization=${authorization}`);
}

export function invalidClientTokenId(): AwsError {
  return new AwsError('InvalidClientTokenId', 403, 'The security token included in the request is invalid.');
}

export function expiredToken(): AwsError {
  return new AwsError('ExpiredToken', 403, 'The security token included in the request is expired');
}

export function signatureDoesNotMatch(
  message = 'The request signature we calculated does not match the signature you provided. ' +
    'Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
): AwsError {
  return new AwsError('SignatureDoesNotMatch', 403, message);
}

export function missingAction(): AwsError {
  return new AwsError('MissingAction', 400, 'The request must contain the parameter Action.');
}

export function invalidAction(action: string, version: string): AwsError {
  return new AwsError('InvalidAction', 400, `Could not find operation ${action} for version ${version}`);
}

export function malformedQueryString(detail: string): AwsError {
  // AWS documents 404 for this common error, odd as it is.
  return new AwsError('MalformedQueryString', 404, `The query string is malformed: ${detail}`);
}

export function requestEntityTooLarge(limit: number): AwsError {
  return new AwsError('RequestEntityTooLarge', 413, `Request body is larger than ${limit} bytes.`);
}

export function methodNotAllowed(method: string): AwsError {
  return new AwsError('MethodNotAllowed', 405, `The method ${method} is not allowed; use POST or GET.`);
}

export function validationError(problems: readonly string[]): AwsError {
  const count = problems.length === 1 ? '1 validation error' : `${problems.length} validation errors`;
  return new AwsError('ValidationError', 400, `${count} detected: ${problems.join('; ')}`);
}

export function accessDenied(message: string): AwsError {
  return new AwsError('AccessDenied', 403, message);
}

/**
 * No policy allows the action: AWS's implicit deny. Since 2021 AWS names the policy type
 * (IAM User Guide, "Troubleshoot access denied error messages").
 */
export function implicitDeny(principalArn: string, action: string, resource: string): AwsError {
  return accessDenied(
    `User: ${principalArn} is not authorized to perform: ${action} on resource: ${resource} ` +
      `because no identity-based policy allows the ${action} action`,
  );
}

/**
 * A Deny statement matched: AWS's explicit deny, which no Allow overrides. Since AWS's 2025–26
 * roll-out the message ends with the denying policy's ARN in the same account
 * (AWS Security Blog, "Enhanced access denied error messages with policy ARNs"); an inline
 * policy has no ARN, and neither did any message before it.
 */
export function explicitDeny(principalArn: string, action: string, resource: string, policyArn: string | null): AwsError {
  return accessDenied(
    `User: ${principalArn} is not authorized to perform: ${action} on resource: ${resource} ` +
      `with an explicit deny in an identity-based policy${policyArn === null ? '' : `: ${policyArn}`}`,
  );
}

/** GetSessionToken's answer to a wrong or reused code of a device the user has (aws/aws-cli#2279, 99designs/aws-vault#1110). */
export function mfaCodeInvalid(): AwsError {
  return accessDenied('MultiFactorAuthentication failed with invalid MFA one time pass code.');
}

/**
 * GetSessionToken's answer to a serial that is no MFA device of the user (aws/aws-cli#6325,
 * broamski/aws-mfa#25, #46), the two spaces included.
 */
export function mfaDeviceUnknown(): AwsError {
  return accessDenied(
    'MultiFactorAuthentication failed, unable to validate MFA code.  Please verify your MFA serial number is valid and associated with this user.',
  );
}

export function noSuchUser(userName: string): AwsError {
  return new AwsError('NoSuchEntity', 404, `The user with name ${userName} cannot be found.`);
}

export function noSuchAccessKey(accessKeyId: string): AwsError {
  return new AwsError('NoSuchEntity', 404, `The Access Key with id ${accessKeyId} cannot be found.`);
}

export function accessKeyLimitExceeded(): AwsError {
  return new AwsError('LimitExceeded', 409, 'Cannot exceed quota for AccessKeysPerUser: 2');
}

export function throttling(): AwsError {
  return new AwsError('Throttling', 400, 'Rate exceeded');
}

export function internalFailure(): AwsError {
  return new AwsError('InternalFailure', 500, 'An internal error has occurred. Retry your request.');
}

export function serviceUnavailable(): AwsError {
  return new AwsError('ServiceUnavailable', 503, 'Service is unable to handle request.');
}
