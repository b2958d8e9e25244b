import { describeAwsError, getMfaRefusal } from '../aws/errors.js';
import type { AwsCredentials, KeyApi, SessionCredentials } from '../aws/key-api.js';
import { KeyupError } from '../errors.js';

/**
 * How long an MFA session lasts: STS's shortest. A rotation takes a minute or two (at most the
 * verification's minute and the hooks' minute each); a session that runs out before the end
 * leaves both keys working, and the next code finishes the rotation.
 */
export const MFA_SESSION_SECONDS = 900;

/**
 * One MFA code, given for one request (`rotate now --mfa-code`), and the sessions made with it.
 * A TOTP code makes one session only (STS refuses it the second time within its 30 seconds), so
 * every rotation of the request that needs the same device shares that session, and a code STS
 * refused is not sent again. Lives in memory for the request's life: never written anywhere.
 */
export class MfaCode {
  private readonly sessions = new Map<string, Promise<SessionCredentials>>();

  constructor(private readonly code: string) {}

  /** The session of device `serialNumber`: made once by `make` with the code, then shared. */
  session(serialNumber: string, make: (tokenCode: string) => Promise<SessionCredentials>): Promise<SessionCredentials> {
    let made = this.sessions.get(serialNumber);
    if (made === undefined) {
      made = make(this.code);
      this.sessions.set(serialNumber, made);
    }
    return made;
  }
}

/**
 * A device whose code STS can check: a virtual or hardware TOTP device. A FIDO security key's
 * serial is an ARN with `:u2f/`; AWS's API cannot use those for GetSessionToken.
 */
export function isTotpDevice(serialNumber: string): boolean {
  return !/^arn:[^:]+:iam::\d*:u2f\//.test(serialNumber);
}

export interface MfaSubject {
  /** The profile being rotated. */
  readonly profile: string;
  /** Whose device it is, for a person: `user alice`, or the managing identity for `manage_with`. */
  readonly who: string;
  /** Set when the device was named by `mfa_serial` of this profile. */
  readonly configuredBy?: string;
}

/** What to run: the daemon's client asks for the code; `keyupd --once` asks at a terminal. */
function askForCode(profile: string): string {
  return `Run keyupctl rotate now --profile ${profile} (or keyupd --once at a terminal); it asks for the code, or give it with --mfa-code.`;
}

/** No code was given, and IAM wants one. */
export function needsMfaError(subject: MfaSubject, serialNumber: string, cause?: unknown): KeyupError {
  return new KeyupError(`IAM lets ${subject.who} change access keys only with MFA, so profile ${subject.profile} needs a code from the MFA device ${serialNumber} to rotate.`, {
    code: 'needs-mfa',
    hint: askForCode(subject.profile),
    ...(cause === undefined ? {} : { cause }),
  });
}

/** The MFA session of a rotation ended before the rotation did. */
export function sessionExpiredError(profile: string, cause: unknown): KeyupError {
  return new KeyupError(`The MFA session ran out before the rotation of profile ${profile} ended; both keys still work.`, {
    code: 'needs-mfa',
    hint: `${askForCode(profile)} That finishes the rotation.`,
    cause,
  });
}

/** IAM wants MFA, and the user has no device STS can check. */
export function noUsableDeviceError(subject: MfaSubject, fidoOnly: boolean, cause: unknown): KeyupError {
  const what = fidoOnly ? 'only FIDO security keys as MFA devices, which AWS takes in the console but not through its API' : 'no MFA device';
  return new KeyupError(`IAM lets ${subject.who} change access keys only with MFA, and it has ${what}, so keyup cannot rotate profile ${subject.profile}.`, {
    code: 'mfa-unsupported',
    hint: `Assign a virtual or hardware MFA device to ${subject.who} as well (IAM console, Security credentials); keyup then asks for its code.`,
    ...(cause === undefined ? {} : { cause }),
  });
}

/**
 * GetSessionToken with the code, its refusal said in one sentence. Not retried: a code works once,
 * so a second try after a lost answer would be refused as a wrong code.
 */
export async function makeMfaSession(
  keyApi: KeyApi,
  credentials: AwsCredentials,
  serialNumber: string,
  tokenCode: string,
  subject: MfaSubject,
  init: { region?: string; signal?: AbortSignal },
): Promise<SessionCredentials> {
  try {
    return await keyApi.getSessionToken(
      { credentials, ...(init.region === undefined ? {} : { region: init.region }), ...(init.signal === undefined ? {} : { signal: init.signal }) },
      { serialNumber, tokenCode, durationSeconds: MFA_SESSION_SECONDS },
    );
  } catch (error) {
    const refusal = getMfaRefusal(error);
    if (refusal === 'code') {
      throw new KeyupError(`AWS refused the MFA code for the device ${serialNumber}: it is not the one the device shows now, or it was used already; nothing was changed.`, {
        code: 'mfa-code-refused',
        hint: `Run keyupctl rotate now --profile ${subject.profile} again with the next code the device shows (a code works only once).`,
        cause: error,
      });
    }
    if (refusal === 'device') {
      const named = subject.configuredBy === undefined ? '' : ` (mfa_serial of profile ${subject.configuredBy})`;
      throw new KeyupError(`AWS cannot check codes of the MFA device ${serialNumber}${named}: it is not a virtual or hardware MFA device of ${subject.who}.`, {
        code: 'mfa-unsupported',
        hint:
          subject.configuredBy === undefined
            ? `Assign a virtual or hardware MFA device to ${subject.who}.`
            : `Set mfa_serial of profile ${subject.configuredBy} in the AWS config file to one of the devices aws iam list-mfa-devices shows.`,
        cause: error,
      });
    }
    throw describeAwsError(error, { action: 'sts:GetSessionToken', profile: subject.profile });
  }
}
