/**
 * The only surface of AWS that keyup uses. The rotation engine depends on this interface, so it
 * is tested with a fake; `createSdkKeyApi` is the real one.
 */

/** Credentials read from the credentials file by keyup itself, never from the SDK's chain. */
export interface AwsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

/** Who signs a call and where it goes. */
export interface CallContext {
  readonly credentials: AwsCredentials;
  /** Region for STS; IAM is global. Default `us-east-1`. */
  readonly region?: string;
  /** Ends the call at once (shutdown, a deadline of the caller's). */
  readonly signal?: AbortSignal;
}

export interface CallerIdentity {
  readonly account: string;
  readonly arn: string;
  readonly userId: string;
  /** The IAM user name, without its path; undefined when the caller is not an IAM user. */
  readonly userName: string | undefined;
}

export type AccessKeyStatus = 'Active' | 'Inactive';

export interface AccessKeyInfo {
  readonly accessKeyId: string;
  readonly userName: string;
  readonly status: AccessKeyStatus;
  readonly createDate: Date;
}

/** A user's keys, and what IAM's clock said when it answered. */
export interface AccessKeyList {
  readonly keys: readonly AccessKeyInfo[];
  /**
   * The `Date` of IAM's answer (whole seconds), undefined if it sent none. keyup compares key
   * creation times with IAM's clock, never the machine's, which may be minutes off.
   */
  readonly serverTime: Date | undefined;
}

export interface NewAccessKey extends AccessKeyInfo {
  readonly secretAccessKey: string;
}

export interface AccessKeyLastUsed {
  readonly userName: string;
  readonly lastUsedDate: Date | undefined;
  readonly serviceName: string | undefined;
  readonly region: string | undefined;
}

/** An MFA device of an IAM user, as ListMFADevices names it. */
export interface MfaDeviceInfo {
  /** A virtual device's ARN (`arn:aws:iam::…:mfa/NAME`), a hardware token's serial, or a FIDO key's ARN (`…:u2f/…`). */
  readonly serialNumber: string;
  readonly enableDate: Date | undefined;
}

/** What GetSessionToken is asked for: a session that carries MFA. */
export interface SessionRequest {
  readonly serialNumber: string;
  /** The six digits the device shows. */
  readonly tokenCode: string;
  readonly durationSeconds: number;
}

/** Temporary credentials from GetSessionToken; the secret and the token stay in memory. */
export interface SessionCredentials extends AwsCredentials {
  readonly sessionToken: string;
  readonly expiration: Date | undefined;
}

/**
 * IAM and STS calls. Every call makes a single attempt: retrying is the caller's decision,
 * because CreateAccessKey is not idempotent and a blind retry can leave a key nobody knows.
 * `userName` undefined means the signing user itself. A call that gets no HTTP answer (refused,
 * DNS, timeout, reset, aborted) throws an error that names the URL it went to as `endpoint`
 * (read it with `getUnansweredEndpoint`); the error is otherwise the SDK's own.
 */
export interface KeyApi {
  getCallerIdentity(ctx: CallContext): Promise<CallerIdentity>;
  listAccessKeys(ctx: CallContext, userName?: string): Promise<AccessKeyList>;
  createAccessKey(ctx: CallContext, userName?: string): Promise<NewAccessKey>;
  updateAccessKey(ctx: CallContext, accessKeyId: string, status: AccessKeyStatus, userName?: string): Promise<void>;
  deleteAccessKey(ctx: CallContext, accessKeyId: string, userName?: string): Promise<void>;
  getAccessKeyLastUsed(ctx: CallContext, accessKeyId: string): Promise<AccessKeyLastUsed>;
  /** The user's MFA devices; AWS's force-MFA policy allows this without MFA. */
  listMfaDevices(ctx: CallContext, userName?: string): Promise<MfaDeviceInfo[]>;
  /** STS GetSessionToken with an MFA code, signed by a long-term key (STS refuses a session's). */
  getSessionToken(ctx: CallContext, request: SessionRequest): Promise<SessionCredentials>;
  /**
   * Forgets every client and connection made so far, and the credentials they hold; the next
   * call makes new ones. The engine calls it once no run has started for a few seconds after the
   * last one ended (a burst of `rotate now` reuses the clients), so that an idle daemon holds no
   * secret and no socket. Calls still running finish first on what they had.
   */
  release?(): void;
}

/** The endpoint that did not answer a failed KeyApi call, if the error names one. */
export function getUnansweredEndpoint(error: unknown): string | undefined {
  const endpoint = typeof error === 'object' && error !== null ? (error as { endpoint?: unknown }).endpoint : undefined;
  return typeof endpoint === 'string' ? endpoint : undefined;
}
