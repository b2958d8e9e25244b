/**
 * The emulator's public vocabulary: what the control API takes and returns. Every value is
 * plain JSON (dates as ISO-8601 strings) so that the in-process control API and the HTTP
 * control API (`POST /_emulator/<method>`) answer with identical shapes.
 */

/** The two AWS services the emulator speaks, named as in a SigV4 credential scope. */
export type ServiceName = 'iam' | 'sts';

export type AccessKeyStatus = 'Active' | 'Inactive';

/** How long a newly created key stays invisible to each service (IAM is eventually consistent). */
export interface ActivationDelays {
  iam: number;
  sts: number;
}

export interface UserInit {
  userName: string;
  /** IAM path such as `/team/`; default `/`. */
  path?: string;
  /** May manage every user's keys; a plain user may manage only their own. */
  admin?: boolean;
  /** IAM actions refused with AccessDenied even on the user's own keys, e.g. `iam:DeleteAccessKey`. */
  deniedActions?: string[];
  /**
   * Under AWS's "force MFA" example policy (README, "MFA"): without an MFA session every IAM
   * action but a few self-service ones is refused with an explicit deny. Default false.
   */
  forceMfa?: boolean;
  /**
   * The ARN an explicit deny names, as AWS names a managed policy's; `null` for a policy without
   * one (inline). Default `arn:aws:iam::ACCOUNT:policy/Force_MFA`, the name AWS's tutorial uses.
   */
  forceMfaPolicyArn?: string | null;
  createDate?: Date | string;
}

export interface AccessKeyInit {
  userName: string;
  /** Default: now. A date in the past makes the key look old. */
  createDate?: Date | string;
  /** Default `Active`. */
  status?: AccessKeyStatus;
  /** Default: a fresh `AKIA…` id. */
  accessKeyId?: string;
  /** Default: a fresh 40-character secret. */
  secretAccessKey?: string;
}

export interface SeededAccessKey {
  accessKeyId: string;
  secretAccessKey: string;
  userName: string;
  status: AccessKeyStatus;
  createDate: string;
}

export interface UserView {
  userName: string;
  userId: string;
  path: string;
  arn: string;
  admin: boolean;
  deniedActions: string[];
  forceMfa: boolean;
  /** The policy an explicit deny names; `null` when the user is not forced to MFA or the policy is inline. */
  forceMfaPolicyArn: string | null;
  createDate: string;
}

/** `virtual` (an authenticator app), `hardware` (a TOTP token) or `u2f` (a FIDO security key). */
export type MfaDeviceKind = 'virtual' | 'hardware' | 'u2f';

export interface MfaDeviceInit {
  userName: string;
  kind: MfaDeviceKind;
  /**
   * In the serial's ARN: for `virtual`, the device name (`arn:aws:iam::ACCOUNT:mfa/NAME`, default
   * the user name); for `u2f`, the key's name (`…:u2f/user/USER/NAME-…`, default `securitykey`).
   */
  name?: string;
  /** Default: built from `name` as above; for `hardware`, `GAHT` and eight random digits. */
  serialNumber?: string;
  /** Default: now. */
  enableDate?: Date | string;
  /**
   * The six-digit codes GetSessionToken accepts from this device now. Default: one random code
   * (never `000000`), read it from the answer. A `u2f` key has none: it makes no codes.
   */
  codes?: string[];
}

export interface MfaDeviceView {
  userName: string;
  serialNumber: string;
  kind: MfaDeviceKind;
  enableDate: string;
  /** The codes it accepts now; each, once used, is refused for the next 30 s. */
  codes: string[];
}

export interface MfaCodesInit {
  serialNumber: string;
  /** Replaces the accepted codes (six digits each) and forgets which were used: the device's next time step. */
  codes: string[];
}

export interface LastUsedView {
  date: string;
  serviceName: ServiceName;
  region: string;
}

export interface AccessKeyView {
  accessKeyId: string;
  /** Test support only: real IAM never shows a secret again after CreateAccessKey. */
  secretAccessKey: string;
  userName: string;
  status: AccessKeyStatus;
  createDate: string;
  lastUsed: LastUsedView | null;
}

export interface SessionView {
  accessKeyId: string;
  userName: string;
  /** The long-term key that called GetSessionToken; it may since have been deactivated or deleted. */
  parentAccessKeyId: string;
  /** The MFA device whose code made the session, or `null` for a session without MFA. */
  mfaSerialNumber: string | null;
  expiration: string;
  expired: boolean;
}

export interface EmulatorStateView {
  accountId: string;
  activationDelayMs: ActivationDelays;
  rateLimit: RateLimits;
  users: UserView[];
  accessKeys: AccessKeyView[];
  /** In creation order, as ListMFADevices answers. */
  mfaDevices: MfaDeviceView[];
  sessions: SessionView[];
}

export type FaultKind =
  /** 400 `Throttling`, "Rate exceeded". */
  | 'throttle'
  /** 500 `InternalFailure`. */
  | 'internal-failure'
  /** 503 `ServiceUnavailable`. */
  | 'service-unavailable'
  /** Answer normally, `latencyMs` later. */
  | 'latency'
  /** No effect and no answer until the client gives up or the emulator stops. */
  | 'hang'
  /** The effect is committed, then no answer until the client gives up or the emulator stops. */
  | 'hang-after-commit'
  /** The effect is committed, then the socket is destroyed without an answer. */
  | 'drop-response';

export interface FaultInit {
  kind: FaultKind;
  /** Only calls of this action, e.g. `CreateAccessKey`; default every action. */
  action?: string;
  /** Only calls to this service; default both. */
  service?: ServiceName;
  /** How many matching calls it hits; default 1. `'always'` never runs out. */
  count?: number | 'always';
  /** For `latency`: the added delay. */
  latencyMs?: number;
}

export interface FaultView {
  id: number;
  kind: FaultKind;
  action: string | null;
  service: ServiceName | null;
  remaining: number | 'always';
  latencyMs: number;
}

/**
 * A token bucket for one service of the account: `burst` requests at once, then `rate` a
 * second. A request that finds it empty is answered 400 `Throttling`, "Rate exceeded".
 */
export interface RateLimit {
  /** Tokens added per second; above 0, fractions allowed (0.5 is one request every 2 s). */
  rate: number;
  /** Tokens the bucket holds, and so the most requests let through at once; a whole number, 1 or more. */
  burst: number;
}

export interface RateLimitInit {
  rate: number;
  /** Default: one second's worth, `ceil(rate)`. */
  burst?: number;
}

/** The limit of each service; `null` means none. */
export interface RateLimits {
  iam: RateLimit | null;
  sts: RateLimit | null;
}

/**
 * What `setRateLimit` and `startEmulator({ rateLimit })` take: per service a limit, or `null`
 * to lift it. `setRateLimit` leaves a service it does not name as it was; at start it has none.
 */
export type RateLimitSettings = Partial<Record<ServiceName, RateLimitInit | null>>;

/** What shaped a call besides the action itself: an injected fault, or the rate limit. */
export type CallFault = FaultKind | 'rate-limit';

/** One request the emulator received, as AWS CloudTrail would roughly see it. */
export interface CallLogEntry {
  time: string;
  service: ServiceName | null;
  action: string | null;
  accessKeyId: string | null;
  userName: string | null;
  /** `null` when no answer was sent (hang, dropped response). */
  httpStatus: number | null;
  errorCode: string | null;
  /**
   * The injected fault that shaped this call (`latency` included), or `'rate-limit'` when the
   * rate limit throttled it (then `errorCode` is `Throttling` and nothing else happened).
   */
  fault: CallFault | null;
}

export interface ExpireSessionInit {
  /** The session's `ASIA…` access key id. */
  accessKeyId: string;
}

/**
 * Everything a test may do to the emulator besides speaking AWS to it. The in-process
 * `Emulator` answers synchronously; the HTTP `ControlClient` answers the same with promises.
 */
export interface EmulatorControl {
  createUser(init: UserInit): UserView;
  createAccessKey(init: AccessKeyInit): SeededAccessKey;
  /** Gives a user an enabled MFA device (AWS allows 8 per user). */
  createMfaDevice(init: MfaDeviceInit): MfaDeviceView;
  /** Sets which codes a virtual or hardware device accepts now. */
  setMfaCodes(init: MfaCodesInit): MfaDeviceView;
  getState(): EmulatorStateView;
  getCallLog(): CallLogEntry[];
  clearCallLog(): void;
  setActivationDelay(delay: number | Partial<ActivationDelays>): ActivationDelays;
  injectFault(init: FaultInit): FaultView;
  listFaults(): FaultView[];
  clearFaults(): void;
  expireSessionToken(init: ExpireSessionInit): void;
  /** Changes the rate limit of the services named; a service given a limit starts with a full bucket. */
  setRateLimit(settings: RateLimitSettings): RateLimits;
  /**
   * Forget users, keys, MFA devices, sessions, faults and the call log; restore the starting delays and
   * rate limits, with full buckets.
   */
  reset(): void;
}

export type ControlMethod = keyof EmulatorControl;

/** The same control API where every answer arrives as a promise (over HTTP). */
export type AsyncEmulatorControl = {
  [M in ControlMethod]: (
    ...args: Parameters<EmulatorControl[M]>
  ) => Promise<ReturnType<EmulatorControl[M]>>;
};
