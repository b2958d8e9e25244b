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
  createDate: string;
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
  /** The long-term key that called GetSessionToken. */
  parentAccessKeyId: string;
  expiration: string;
  expired: boolean;
}

export interface EmulatorStateView {
  accountId: string;
  activationDelayMs: ActivationDelays;
  users: UserView[];
  accessKeys: AccessKeyView[];
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
  /** The injected fault that shaped this call (`latency` included), if any. */
  fault: FaultKind | null;
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
  getState(): EmulatorStateView;
  getCallLog(): CallLogEntry[];
  clearCallLog(): void;
  setActivationDelay(delay: number | Partial<ActivationDelays>): ActivationDelays;
  injectFault(init: FaultInit): FaultView;
  listFaults(): FaultView[];
  clearFaults(): void;
  expireSessionToken(init: ExpireSessionInit): void;
  /** Forget users, keys, sessions, faults and the call log; restore the starting delays. */
  reset(): void;
}

export type ControlMethod = keyof EmulatorControl;

/** The same control API where every answer arrives as a promise (over HTTP). */
export type AsyncEmulatorControl = {
  [M in ControlMethod]: (
    ...args: Parameters<EmulatorControl[M]>
  ) => Promise<ReturnType<EmulatorControl[M]>>;
};
