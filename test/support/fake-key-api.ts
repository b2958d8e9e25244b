import { IAMServiceException, LimitExceededException, NoSuchEntityException } from '@aws-sdk/client-iam';
import { STSServiceException } from '@aws-sdk/client-sts';
import { HttpResponse } from '@smithy/protocol-http';
import {
  accessDenied,
  accessKeyLimitExceeded,
  AwsError,
  expiredToken,
  internalFailure,
  invalidClientTokenId,
  noSuchAccessKey,
  noSuchUser,
  serviceUnavailable,
  signatureDoesNotMatch,
  throttling,
} from '../../emulator/aws-errors.js';
import { addMfaDevice, readRateLimitSettings, replaceMfaCodes } from '../../emulator/control.js';
import { ACCESS_KEYS_PER_USER } from '../../emulator/iam-actions.js';
import { createRequestId } from '../../emulator/ids.js';
import { acceptMfaCode } from '../../emulator/mfa.js';
import { ACCESS_KEY_ID, ParamReader, USER_NAME } from '../../emulator/params.js';
import { authorizeIam, qualifyIamAction } from '../../emulator/policy.js';
import { NO_RATE_LIMITS, RateLimiter } from '../../emulator/rate-limit.js';
import { EmulatorState, type AccessKey, type MfaDevice, type User } from '../../emulator/state.js';
import type { ActivationDelays, MfaCodesInit, MfaDeviceInit, MfaDeviceKind, RateLimits, RateLimitSettings, ServiceName } from '../../emulator/types.js';
import { parseUserArn } from '../../src/aws/arn.js';
import type { AccessKeyInfo, AccessKeyStatus, CallContext, KeyApi } from '../../src/aws/key-api.js';
import { SESSION_DURATION } from '../../emulator/sts-actions.js';

/** The AWS actions behind the KeyApi's methods, named as IAM and STS name them. */
export type FakeAction =
  | 'GetCallerIdentity'
  | 'GetSessionToken'
  | 'ListAccessKeys'
  | 'CreateAccessKey'
  | 'UpdateAccessKey'
  | 'DeleteAccessKey'
  | 'GetAccessKeyLastUsed'
  | 'ListMFADevices';

export type FakeFaultKind =
  /** 400 `Throttling`, "Rate exceeded". */
  | 'throttle'
  /** 500 `InternalFailure`. */
  | 'internal-failure'
  /** 503 `ServiceUnavailable`. */
  | 'service-unavailable'
  /** The connection is refused (`code: 'ECONNREFUSED'`): AWS never sees the call, not even to authenticate it. */
  | 'connection-refused'
  /** AWS got the call and never answered: the SDK's request timeout (`name: 'TimeoutError'`, `ETIMEDOUT`). No effect. */
  | 'timeout'
  /** No effect and no answer until the call's signal aborts (then an `AbortError`). */
  | 'hang'
  /** The effect is committed, then the answer is lost: a network error (see `lostAs`). */
  | 'commit-then-lose'
  /** The effect is committed, then no answer until the call's signal aborts. */
  | 'hang-after-commit';

export interface FakeFaultInit {
  kind: FakeFaultKind;
  /** Only calls of this action; default every action. */
  action?: FakeAction;
  /** Only calls to this service; default both. */
  service?: ServiceName;
  /** How many matching calls it hits; default 1. `'always'` never runs out. */
  count?: number | 'always';
  /** For `commit-then-lose`: the socket resets (`ECONNRESET`, default) or the request times out (`ETIMEDOUT`). */
  lostAs?: 'reset' | 'timeout';
}

export interface FakeFaultView {
  readonly id: number;
  readonly kind: FakeFaultKind;
  readonly action: FakeAction | null;
  readonly service: ServiceName | null;
  readonly remaining: number | 'always';
  readonly lostAs: 'reset' | 'timeout';
}

/** One call the fake received, as the emulator's call log (and roughly CloudTrail) records it. */
export interface FakeCallLogEntry {
  /** The test's clock when the call was made. */
  readonly time: Date;
  readonly service: ServiceName;
  readonly action: FakeAction;
  /** The key id that signed the call. */
  readonly accessKeyId: string;
  /** The user the signer belongs to; null when authentication failed or AWS never saw the call. */
  readonly userName: string | null;
  /** null when AWS sent no answer (refused connection, timeout, hang, lost answer). */
  readonly httpStatus: number | null;
  /**
   * The AWS error code of an answered error (`LimitExceeded`, `InvalidClientTokenId`, …); for a
   * call without an answer, what the caller got (`ECONNREFUSED`, `ETIMEDOUT`, `ECONNRESET`,
   * `AbortError`); null for a success and for a call still hanging.
   */
  readonly errorCode: string | null;
  /** The injected fault that shaped this call, or `rate-limit` when the rate limit throttled it. */
  readonly fault: FakeFaultKind | 'rate-limit' | null;
}

export interface FakeUserInit {
  userName: string;
  /** IAM path such as `/team/`; default `/`. */
  path?: string;
  /** May manage every user's keys; a plain user may manage only their own. */
  admin?: boolean;
  /** IAM actions refused with AccessDenied even on the user's own keys, e.g. `iam:DeleteAccessKey`. */
  deniedActions?: readonly string[];
  /**
   * Under AWS's force-MFA policy, as the emulator's (emulator/README.md, "MFA"): without an MFA
   * session every KeyApi IAM call is refused with an explicit deny. Default false.
   */
  forceMfa?: boolean;
  /** The policy that deny names; `null` for an inline one. Default `arn:aws:iam::ACCOUNT:policy/Force_MFA`. */
  forceMfaPolicyArn?: string | null;
}

export interface FakeAccessKeyInit {
  userName: string;
  /** In IAM's clock; default its now. Seeded keys are usable at once, whatever the activation delay. */
  createDate?: Date | string;
  /** Default `Active`. */
  status?: AccessKeyStatus;
  /** Default: a fresh `AKIA…` id of 20 characters. */
  accessKeyId?: string;
  /** Default: a fresh 40-character secret. */
  secretAccessKey?: string;
}

/** A seeded key; it is also the credentials to sign with. */
export interface FakeSeededKey {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly userName: string;
  readonly status: AccessKeyStatus;
  readonly createDate: Date;
}

export interface FakeSessionInit {
  /** The long-term key that "called" GetSessionToken. */
  accessKeyId: string;
  /** Made with an MFA code, without checking one: only such sessions may call IAM. Default false. */
  mfa?: boolean;
  /**
   * With `tokenCode`: a session made with this device's code, checked as the emulator's
   * GetSessionToken checks it (emulator/mfa.ts); a refused code throws STS's AccessDenied.
   */
  serialNumber?: string;
  tokenCode?: string;
  /** Default 43,200 (12 hours), as STS. */
  durationSeconds?: number;
}

/** A device as the emulator's `createMfaDevice` answers it, with the fake's dates. */
export interface FakeMfaDeviceView {
  readonly userName: string;
  readonly serialNumber: string;
  readonly kind: MfaDeviceKind;
  /** In IAM's clock, whole seconds. */
  readonly enableDate: Date;
  readonly codes: readonly string[];
}

/** Session credentials (`ASIA…`), usable as they are to sign calls. */
export interface FakeSessionCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
  /** In IAM's clock. */
  readonly expiration: Date;
}

export interface FakeStateView {
  readonly accountId: string;
  readonly activationDelayMs: ActivationDelays;
  readonly skewMs: number;
  readonly rateLimit: RateLimits;
  readonly users: readonly {
    userName: string;
    userId: string;
    path: string;
    arn: string;
    admin: boolean;
    deniedActions: string[];
    forceMfa: boolean;
    forceMfaPolicyArn: string | null;
  }[];
  /** In creation order, as ListAccessKeys answers. */
  readonly accessKeys: readonly {
    accessKeyId: string;
    secretAccessKey: string;
    userName: string;
    status: AccessKeyStatus;
    createDate: Date;
    lastUsed: { date: Date; serviceName: ServiceName; region: string } | null;
  }[];
  /** In creation order, as ListMFADevices answers. */
  readonly mfaDevices: readonly FakeMfaDeviceView[];
  readonly sessions: readonly {
    accessKeyId: string;
    userName: string;
    /** It may since have been deactivated or deleted: the session works on, as AWS's. */
    parentAccessKeyId: string;
    mfa: boolean;
    mfaSerialNumber: string | null;
    expiration: Date;
    expired: boolean;
  }[];
}

export interface FakeKeyApiInit {
  /** The test's clock; activation delays are measured on it. Default: the system clock. */
  now?: () => Date;
  /** IAM's clock runs this far ahead of `now` (negative: behind). Default 0. */
  skewMs?: number;
  /** Default `123456789012`, as the emulator. */
  accountId?: string;
  /** How long a key made by createAccessKey is refused, one number for both services or one each. Default 0. */
  activationDelayMs?: number | Partial<ActivationDelays>;
  /**
   * A token bucket per service, as the emulator's (emulator/README.md, "Rate limit"), on the
   * test's clock: a call finding it empty is throttled without effect. Default none.
   */
  rateLimit?: RateLimitSettings;
  users?: readonly FakeUserInit[];
  keys?: readonly FakeAccessKeyInit[];
  /** Only named in a `timeout` fault's message, as the SDK names its own. Default 15 s, as createSdkKeyApi. */
  requestTimeoutMs?: number;
  /**
   * Named in the `endpoint` of errors that got no answer, as createSdkKeyApi names them. Default
   * AWS's own: `https://iam.amazonaws.com`, `https://sts.{region}.amazonaws.com`.
   */
  endpoints?: { iam?: string; sts?: string };
}

export interface FakeKeyApiControl {
  readonly accountId: string;
  /** IAM's clock: the test's clock plus the skew. */
  iamNow(): Date;
  setSkew(ms: number): void;
  setActivationDelay(delay: number | Partial<ActivationDelays>): ActivationDelays;
  /** Per service a limit, or null to lift it; a service not named keeps its own. Buckets start full. */
  setRateLimit(settings: RateLimitSettings): RateLimits;
  createUser(init: FakeUserInit): void;
  createAccessKey(init: FakeAccessKeyInit): FakeSeededKey;
  /** As the emulator's: a virtual, hardware or U2F device; `enableDate` defaults to IAM's now. */
  createMfaDevice(init: MfaDeviceInit): FakeMfaDeviceView;
  /** As the emulator's: the codes a device accepts now, and none of them used yet. */
  setMfaCodes(init: MfaCodesInit): FakeMfaDeviceView;
  /** What GetSessionToken would give the key's user. */
  createSession(init: FakeSessionInit): FakeSessionCredentials;
  expireSession(accessKeyId: string): void;
  getState(): FakeStateView;
  injectFault(init: FakeFaultInit): FakeFaultView;
  listFaults(): FakeFaultView[];
  clearFaults(): void;
  getCallLog(): FakeCallLogEntry[];
  /** How many calls reached the fake (or tried to: refused connections count), of one action or all. */
  countCalls(action?: FakeAction): number;
  clearCallLog(): void;
  /** Calls held by `hang` or `hang-after-commit` that have not ended yet. */
  hangingCalls(): number;
  /** Ends every hanging call as a dropped connection would (`ECONNRESET`), like stopping the emulator. */
  endHangingCalls(): void;
  /** How many times `keyApi.release()` was called. */
  releaseCount(): number;
}

export interface FakeKeyApi {
  /** `release` is always there, as on the SDK's; the fake holds no clients, so it only counts. */
  readonly keyApi: KeyApi & { release(): void };
  readonly control: FakeKeyApiControl;
}

const DEFAULT_REGION = 'us-east-1';
const IAM_XMLNS = 'https://iam.amazonaws.com/doc/2010-05-08/';
const IAM_PATH = /^\/(?:[\x21-\x7e]*\/)?$/;
const SESSION_DEFAULT_SECONDS = 43_200;
/** The one kind of fault that strikes before the call reaches AWS, hence before authentication. */
const BEFORE_AWS: ReadonlySet<FakeFaultKind> = new Set(['connection-refused']);

/** IAM's own error classes, which the SDK throws instead of its base class for these codes. */
const MODELLED_IAM_ERRORS = new Map<string, typeof NoSuchEntityException | typeof LimitExceededException>([
  ['NoSuchEntity', NoSuchEntityException],
  ['LimitExceeded', LimitExceededException],
]);

function truncateToSeconds(date: Date): Date {
  return new Date(Math.floor(date.getTime() / 1000) * 1000);
}

/**
 * An AWS error answer as AWS SDK v3 deserializes an awsQuery error: the service's exception
 * class, `name` the code (or the modelled class name), `$fault`, `$metadata`, an enumerable
 * `message`, `Type`/`Code`/`Error` from the XML, and the raw answer hidden in `$response`.
 */
function toSdkError(service: ServiceName, error: AwsError, serverDate: Date): Error {
  const requestId = createRequestId();
  const $metadata = { httpStatusCode: error.status, requestId, extendedRequestId: undefined, cfId: undefined, attempts: 1, totalRetryDelay: 0 };
  const $fault = error.type === 'Receiver' ? 'server' : 'client';
  const details = { Type: error.type, Code: error.code, Error: { Type: error.type, Code: error.code, Message: error.message } };
  const Modelled = service === 'iam' ? MODELLED_IAM_ERRORS.get(error.code) : undefined;
  const sdkError =
    Modelled === undefined
      ? Object.assign(new (service === 'iam' ? IAMServiceException : STSServiceException)({ name: error.code, $fault, $metadata }), {
          Type: details.Type,
          Code: details.Code,
          message: error.message,
          Error: details.Error,
        })
      : Object.assign(new Modelled({ $metadata, message: error.message }), details, { RequestId: requestId, xmlns: IAM_XMLNS });
  // The SDK assigns the message after construction, so it is enumerable; Error's own is not.
  Object.defineProperty(sdkError, 'message', { value: error.message, enumerable: true, writable: true, configurable: true });
  const $response = new HttpResponse({
    statusCode: error.status,
    headers: { 'content-type': 'text/xml', 'x-amzn-requestid': requestId, date: serverDate.toUTCString() },
  });
  Object.defineProperty(sdkError, '$response', { value: $response, enumerable: false, writable: false, configurable: false });
  return sdkError;
}

/**
 * What the SDK's Node handler rejects with when no answer arrives: no HTTP status. createSdkKeyApi
 * adds the `endpoint` that did not answer.
 */
function networkError(message: string, fields: Record<string, unknown>, endpoint: URL): Error {
  return Object.assign(new Error(message), fields, { $metadata: { attempts: 1, totalRetryDelay: 0 } }, { endpoint: formatEndpoint(endpoint) });
}

/** As createSdkKeyApi formats the URL of a request: no trailing `/`. */
function formatEndpoint(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname === '/' ? '' : url.pathname}`;
}

function connectionRefused(endpoint: URL): Error {
  const address = endpoint.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = Number(endpoint.port || (endpoint.protocol === 'http:' ? 80 : 443));
  return networkError(`connect ECONNREFUSED ${address}:${port}`, { errno: -111, code: 'ECONNREFUSED', syscall: 'connect', address, port }, endpoint);
}

function requestTimedOut(timeoutMs: number, endpoint: URL): Error {
  return networkError(
    `@smithy/node-http-handler - [ERROR] a request has exceeded the configured ${timeoutMs} ms requestTimeout.`,
    { name: 'TimeoutError', code: 'ETIMEDOUT' },
    endpoint,
  );
}

/** The SDK names a reset socket `TimeoutError` too (Node's "socket hang up" with `ECONNRESET`). */
function connectionReset(endpoint: URL): Error {
  return networkError('socket hang up', { code: 'ECONNRESET', name: 'TimeoutError' }, endpoint);
}

/** The SDK ignores the signal's reason and always says this; createSdkKeyApi adds the endpoint. */
function abortError(endpoint: URL): Error {
  return Object.assign(new Error('Request aborted'), { name: 'AbortError', endpoint: formatEndpoint(endpoint) });
}

function paramsOf(fields: Record<string, string | undefined>): Map<string, string> {
  return new Map(Object.entries(fields).filter((entry): entry is [string, string] => entry[1] !== undefined));
}

function toDelays(delay: number | Partial<ActivationDelays>): ActivationDelays {
  return typeof delay === 'number' ? { iam: delay, sts: delay } : { iam: delay.iam ?? 0, sts: delay.sts ?? 0 };
}

function toDate(value: Date | string | undefined, fallback: Date): Date {
  if (value === undefined) return fallback;
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) throw new Error(`createDate ${String(value)} is not a date.`);
  return date;
}

interface Caller {
  readonly user: User;
  /** null for session credentials: only long-term keys record their last use. */
  readonly key: AccessKey | null;
  /** Signed by a session made with MFA: `aws:MultiFactorAuthPresent`. */
  readonly mfa: boolean;
}

interface Fault {
  readonly id: number;
  readonly kind: FakeFaultKind;
  readonly action: FakeAction | null;
  readonly service: ServiceName | null;
  remaining: number | 'always';
  readonly lostAs: 'reset' | 'timeout';
}

type MutableEntry = { -readonly [K in keyof FakeCallLogEntry]: FakeCallLogEntry[K] };

/**
 * A typed, in-memory KeyApi for unit tests: the emulator's state model, permission model,
 * activation delay and faults, answered in a microtask with errors shaped exactly as AWS SDK v3
 * throws them against the emulator (test/fake-key-api/parity.test.ts proves it). No timers:
 * time is the injected clock, so a test that moves a fake clock never waits.
 */
export function createFakeKeyApi({
  now = () => new Date(),
  skewMs: initialSkewMs = 0,
  accountId = '123456789012',
  activationDelayMs = 0,
  rateLimit = {},
  users = [],
  keys = [],
  requestTimeoutMs = 15_000,
  endpoints = {},
}: FakeKeyApiInit = {}): FakeKeyApi {
  const state = new EmulatorState(accountId, toDelays(activationDelayMs));
  let skewMs = initialSkewMs;
  const rateLimiter = new RateLimiter({ ...NO_RATE_LIMITS, ...readRateLimitSettings(rateLimit) });
  let faults: Fault[] = [];
  let nextFaultId = 1;
  const log: MutableEntry[] = [];
  const hanging = new Set<() => void>();
  let releases = 0;

  const endpointOf = (service: ServiceName, region: string): URL =>
    new URL((service === 'iam' ? endpoints.iam : endpoints.sts) ?? (service === 'iam' ? 'https://iam.amazonaws.com' : `https://sts.${region}.amazonaws.com`));

  const iamNow = () => new Date(now().getTime() + skewMs);

  /** The first fault matching the call at this stage; each hit uses one up, as in emulator/faults.ts. */
  function takeFault(service: ServiceName, action: FakeAction, stage: 'connect' | 'answer'): Fault | undefined {
    const fault = faults.find(
      (candidate) =>
        (candidate.service === null || candidate.service === service) &&
        (candidate.action === null || candidate.action === action) &&
        BEFORE_AWS.has(candidate.kind) === (stage === 'connect'),
    );
    if (fault !== undefined && fault.remaining !== 'always') {
      fault.remaining -= 1;
      if (fault.remaining === 0) faults = faults.filter((other) => other !== fault);
    }
    return fault;
  }

  function ownerOf(userName: string): User {
    const user = state.users.get(userName);
    if (user === undefined) throw invalidClientTokenId();
    return user;
  }

  /** As emulator/authenticate.ts, in the order AWS reports problems; the secret stands in for the signature. */
  function authenticate({ accessKeyId, secretAccessKey, sessionToken }: CallContext['credentials'], service: ServiceName): Caller {
    // The SDK sends no token header for an empty token.
    const token = sessionToken === '' ? undefined : sessionToken;
    const key = state.accessKeys.get(accessKeyId);
    if (key !== undefined) {
      if (key.status !== 'Active' || state.isPending(key, service, now().getTime())) throw invalidClientTokenId();
      if (token !== undefined) throw invalidClientTokenId();
      const user = ownerOf(key.userName);
      if (secretAccessKey !== key.secret) throw signatureDoesNotMatch();
      return { user, key, mfa: false };
    }
    const session = state.sessions.get(accessKeyId);
    if (session !== undefined) {
      if (token !== session.token) throw invalidClientTokenId();
      if (iamNow().getTime() >= session.expiration.getTime()) throw expiredToken();
      const user = ownerOf(session.userName);
      if (secretAccessKey !== session.secret) throw signatureDoesNotMatch();
      // AWS refuses IAM calls made with GetSessionToken credentials that carry no MFA.
      if (service === 'iam' && !session.mfa) throw invalidClientTokenId();
      return { user, key: null, mfa: session.mfa };
    }
    throw invalidClientTokenId();
  }

  /** The emulator's own permission model (emulator/policy.ts): the force-MFA deny, own keys, an admin anyone's. */
  function authorize(caller: Caller, action: FakeAction, targetUserName: string): void {
    authorizeIam({ user: caller.user, mfa: caller.mfa, action, targetUserName });
  }

  function resolveTarget(caller: Caller, action: FakeAction, userName: string | undefined): User {
    const targetName = userName ?? caller.user.name;
    authorize(caller, action, targetName);
    const user = state.users.get(targetName);
    if (user === undefined) throw noSuchUser(targetName);
    return user;
  }

  function findKeyOf(user: User, accessKeyId: string): AccessKey {
    const key = state.accessKeys.get(accessKeyId);
    if (key === undefined || key.userName !== user.name) throw noSuchAccessKey(accessKeyId);
    return key;
  }

  function readUserName(reader: ParamReader): void {
    reader.string('UserName', { max: 128, pattern: USER_NAME });
  }

  function readAccessKeyId(reader: ParamReader): void {
    reader.string('AccessKeyId', { required: true, min: 16, max: 128, pattern: ACCESS_KEY_ID });
  }

  /** Never settles until the signal aborts or the test ends every hanging call. */
  function hang(entry: MutableEntry, signal: AbortSignal | undefined, endpoint: URL): Promise<never> {
    return new Promise((_resolve, reject) => {
      const end = (code: string, error: Error) => {
        hanging.delete(drop);
        signal?.removeEventListener('abort', onAbort);
        entry.errorCode = code;
        reject(error);
      };
      const onAbort = () => end('AbortError', abortError(endpoint));
      const drop = () => end('ECONNRESET', connectionReset(endpoint));
      hanging.add(drop);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /**
   * One call end to end, in the emulator's order: connection, authentication, rate limit,
   * faults, the action (validation, permission, lookup, effect), last use, then the answer or
   * its loss.
   */
  async function perform<T>(ctx: CallContext, service: ServiceName, action: FakeAction, run: (caller: Caller) => T): Promise<T> {
    const region = ctx.region ?? DEFAULT_REGION;
    const endpoint = endpointOf(service, region);
    // The SDK checks the signal before sending: AWS never hears of the call.
    if (ctx.signal?.aborted === true) throw abortError(endpoint);
    const entry: MutableEntry = {
      time: now(),
      service,
      action,
      accessKeyId: ctx.credentials.accessKeyId,
      userName: null,
      httpStatus: null,
      errorCode: null,
      fault: null,
    };
    log.push(entry);
    const answerError = (error: unknown): never => {
      if (!(error instanceof AwsError)) throw error;
      entry.httpStatus = error.status;
      entry.errorCode = error.code;
      throw toSdkError(service, error, iamNow());
    };

    const refused = takeFault(service, action, 'connect');
    if (refused !== undefined) {
      entry.fault = refused.kind;
      entry.errorCode = 'ECONNREFUSED';
      throw connectionRefused(endpoint);
    }

    let caller: Caller;
    try {
      caller = authenticate(ctx.credentials, service);
    } catch (error) {
      return answerError(error);
    }
    entry.userName = caller.user.name;

    // As the emulator: the account's bucket, charged once the caller is known, before any fault.
    if (!rateLimiter.tryTake(service, now().getTime())) {
      entry.fault = 'rate-limit';
      return answerError(throttling());
    }

    const fault = takeFault(service, action, 'answer');
    entry.fault = fault?.kind ?? null;
    switch (fault?.kind) {
      case 'throttle':
        return answerError(throttling());
      case 'internal-failure':
        return answerError(internalFailure());
      case 'service-unavailable':
        return answerError(serviceUnavailable());
      case 'timeout':
        entry.errorCode = 'ETIMEDOUT';
        throw requestTimedOut(requestTimeoutMs, endpoint);
      case 'hang':
        return hang(entry, ctx.signal, endpoint);
      default:
        break;
    }

    let outcome: { value: T } | { error: unknown };
    try {
      outcome = { value: run(caller) };
    } catch (error) {
      outcome = { error };
    }
    // IAM tracks last use of long-term keys only, refused calls included, as the emulator does.
    if (caller.key !== null) caller.key.lastUsed = { date: iamNow(), serviceName: service, region };

    if (fault?.kind === 'commit-then-lose') {
      const timedOut = fault.lostAs === 'timeout';
      entry.errorCode = timedOut ? 'ETIMEDOUT' : 'ECONNRESET';
      throw timedOut ? requestTimedOut(requestTimeoutMs, endpoint) : connectionReset(endpoint);
    }
    if (fault?.kind === 'hang-after-commit') return hang(entry, ctx.signal, endpoint);
    if ('error' in outcome) return answerError(outcome.error);
    entry.httpStatus = 200;
    return outcome.value;
  }

  const toInfo = (key: AccessKey): AccessKeyInfo => ({ accessKeyId: key.id, userName: key.userName, status: key.status, createDate: key.createDate });

  const keyApi: FakeKeyApi['keyApi'] = {
    release() {
      releases += 1;
    },

    getCallerIdentity: (ctx) =>
      perform(ctx, 'sts', 'GetCallerIdentity', ({ user }) => ({
        account: state.accountId,
        arn: user.arn,
        userId: user.id,
        userName: parseUserArn(user.arn)?.userName,
      })),

    listAccessKeys: (ctx, userName) =>
      perform(ctx, 'iam', 'ListAccessKeys', (caller) => {
        const reader = new ParamReader(paramsOf({ UserName: userName }));
        readUserName(reader);
        reader.check();
        const user = resolveTarget(caller, 'ListAccessKeys', userName);
        // The Date header of the answer: IAM's clock, whole seconds.
        return { keys: state.keysOf(user.name).map(toInfo), serverTime: truncateToSeconds(iamNow()) };
      }),

    createAccessKey: (ctx, userName) =>
      perform(ctx, 'iam', 'CreateAccessKey', (caller) => {
        const reader = new ParamReader(paramsOf({ UserName: userName }));
        readUserName(reader);
        reader.check();
        const user = resolveTarget(caller, 'CreateAccessKey', userName);
        if (state.keysOf(user.name).length >= ACCESS_KEYS_PER_USER) throw accessKeyLimitExceeded();
        const key = state.addAccessKey({ userName: user.name, createDate: iamNow(), status: 'Active', pendingSince: now().getTime() });
        return { ...toInfo(key), secretAccessKey: key.secret };
      }),

    updateAccessKey: (ctx, accessKeyId, status, userName) =>
      perform(ctx, 'iam', 'UpdateAccessKey', (caller) => {
        const reader = new ParamReader(paramsOf({ UserName: userName, AccessKeyId: accessKeyId, Status: status }));
        readUserName(reader);
        readAccessKeyId(reader);
        reader.enumeration('Status', ['Active', 'Inactive'] as const, { required: true });
        reader.check();
        findKeyOf(resolveTarget(caller, 'UpdateAccessKey', userName), accessKeyId).status = status;
      }),

    deleteAccessKey: (ctx, accessKeyId, userName) =>
      perform(ctx, 'iam', 'DeleteAccessKey', (caller) => {
        const reader = new ParamReader(paramsOf({ UserName: userName, AccessKeyId: accessKeyId }));
        readUserName(reader);
        readAccessKeyId(reader);
        reader.check();
        state.accessKeys.delete(findKeyOf(resolveTarget(caller, 'DeleteAccessKey', userName), accessKeyId).id);
      }),

    listMfaDevices: (ctx, userName) =>
      perform(ctx, 'iam', 'ListMFADevices', (caller) => {
        const reader = new ParamReader(paramsOf({ UserName: userName }));
        readUserName(reader);
        reader.check();
        const user = resolveTarget(caller, 'ListMFADevices', userName);
        return state.mfaDevicesOf(user.name).map((device) => ({ serialNumber: device.serialNumber, enableDate: device.enableDate }));
      }),

    getSessionToken: (ctx, { serialNumber, tokenCode, durationSeconds }) =>
      perform(ctx, 'sts', 'GetSessionToken', (caller) => {
        // As emulator/sts-actions.ts: the bounds and STS's patterns first, so a refused call spends no code.
        const reader = new ParamReader(paramsOf({ DurationSeconds: String(durationSeconds), SerialNumber: serialNumber, TokenCode: tokenCode }));
        reader.integer('DurationSeconds', { min: SESSION_DURATION.min, max: SESSION_DURATION.max });
        reader.string('SerialNumber', { min: 9, max: 256, pattern: /[\w+=/:,.@-]*/ });
        reader.string('TokenCode', { min: 6, max: 6, pattern: /[\d]*/ });
        reader.check();
        if (caller.key === null) throw accessDenied('Cannot call GetSessionToken with session credentials');
        const device = acceptMfaCode(state, caller.user, serialNumber, tokenCode, iamNow().getTime());
        const session = state.addSession(caller.key, new Date(iamNow().getTime() + durationSeconds * 1000), true, device.serialNumber);
        return { accessKeyId: session.accessKeyId, secretAccessKey: session.secret, sessionToken: session.token, expiration: session.expiration };
      }),

    getAccessKeyLastUsed: (ctx, accessKeyId) =>
      perform(ctx, 'iam', 'GetAccessKeyLastUsed', (caller) => {
        const reader = new ParamReader(paramsOf({ AccessKeyId: accessKeyId }));
        readAccessKeyId(reader);
        reader.check();
        // Looked up before the permission check, so an unknown key is NoSuchEntity for anyone.
        const key = state.accessKeys.get(accessKeyId);
        if (key === undefined) throw noSuchAccessKey(accessKeyId);
        authorize(caller, 'GetAccessKeyLastUsed', key.userName);
        const used = key.lastUsed;
        return {
          userName: key.userName,
          lastUsedDate: used === null ? undefined : truncateToSeconds(used.date),
          serviceName: used?.serviceName,
          region: used?.region,
        };
      }),
  };

  const viewFault = (fault: Fault): FakeFaultView => ({ ...fault });
  const viewMfaDevice = (device: MfaDevice): FakeMfaDeviceView => ({
    userName: device.userName,
    serialNumber: device.serialNumber,
    kind: device.kind,
    enableDate: device.enableDate,
    codes: [...device.codes],
  });

  const control: FakeKeyApiControl = {
    accountId,
    iamNow,

    setSkew(ms) {
      skewMs = ms;
    },

    setActivationDelay(delay) {
      const current = state.activationDelays;
      state.activationDelays = typeof delay === 'number' ? toDelays(delay) : { iam: delay.iam ?? current.iam, sts: delay.sts ?? current.sts };
      return { ...state.activationDelays };
    },

    setRateLimit: (settings) => rateLimiter.set(readRateLimitSettings(settings)),

    createUser({ userName, path = '/', admin = false, deniedActions = [], forceMfa = false, forceMfaPolicyArn = `arn:aws:iam::${accountId}:policy/Force_MFA` }) {
      if (!new RegExp(`^(?:${USER_NAME.source})$`).test(userName) || userName.length > 128) throw new Error(`userName '${userName}' is not a valid IAM user name.`);
      if (state.users.has(userName)) throw new Error(`The user ${userName} already exists.`);
      if (!IAM_PATH.test(path)) throw new Error(`path '${path}' must start and end with '/'.`);
      state.addUser({ name: userName, path, admin, deniedActions: deniedActions.map(qualifyIamAction), forceMfa, forceMfaPolicyArn, createDate: iamNow() });
    },

    createAccessKey({ userName, createDate, status = 'Active', accessKeyId, secretAccessKey }) {
      if (!state.users.has(userName)) throw new Error(`The user ${userName} does not exist.`);
      if (state.keysOf(userName).length >= ACCESS_KEYS_PER_USER) {
        throw new Error(`The user ${userName} already has ${ACCESS_KEYS_PER_USER} access keys, IAM's limit.`);
      }
      if (accessKeyId !== undefined && (!/^\w{16,128}$/.test(accessKeyId) || state.accessKeys.has(accessKeyId) || state.sessions.has(accessKeyId))) {
        throw new Error(`accessKeyId ${accessKeyId} is not 16 to 128 word characters, or is already in use.`);
      }
      const key = state.addAccessKey({
        userName,
        status,
        createDate: toDate(createDate, iamNow()),
        pendingSince: null,
        id: accessKeyId,
        secret: secretAccessKey,
      });
      return { accessKeyId: key.id, secretAccessKey: key.secret, userName, status, createDate: key.createDate };
    },

    createMfaDevice: (init) => viewMfaDevice(addMfaDevice(state, init, iamNow())),

    setMfaCodes: (init) => viewMfaDevice(replaceMfaCodes(state, init)),

    createSession({ accessKeyId, mfa = false, serialNumber, tokenCode, durationSeconds = SESSION_DEFAULT_SECONDS }) {
      const parent = state.accessKeys.get(accessKeyId);
      if (parent === undefined) throw new Error(`No long-term key has the id ${accessKeyId}.`);
      let device: MfaDevice | null = null;
      if (serialNumber !== undefined && tokenCode !== undefined) {
        try {
          // The 30-second reuse window runs on IAM's clock, as the emulator's runs on its own.
          device = acceptMfaCode(state, ownerOf(parent.userName), serialNumber, tokenCode, iamNow().getTime());
        } catch (error) {
          if (error instanceof AwsError) throw toSdkError('sts', error, iamNow());
          throw error;
        }
      }
      const session = state.addSession(
        parent,
        new Date(iamNow().getTime() + durationSeconds * 1000),
        mfa || device !== null,
        device?.serialNumber ?? null,
      );
      return { accessKeyId: session.accessKeyId, secretAccessKey: session.secret, sessionToken: session.token, expiration: session.expiration };
    },

    expireSession(accessKeyId) {
      const session = state.sessions.get(accessKeyId);
      if (session === undefined) throw new Error(`No session has the access key id ${accessKeyId}.`);
      session.expiration = new Date(iamNow().getTime() - 1000);
    },

    getState() {
      const iamTime = iamNow().getTime();
      return {
        accountId,
        activationDelayMs: { ...state.activationDelays },
        skewMs,
        rateLimit: rateLimiter.get(),
        users: [...state.users.values()].map((user) => ({
          userName: user.name,
          userId: user.id,
          path: user.path,
          arn: user.arn,
          admin: user.admin,
          deniedActions: [...user.deniedActions],
          forceMfa: user.forceMfa,
          forceMfaPolicyArn: user.forceMfaPolicyArn,
        })),
        accessKeys: [...state.accessKeys.values()].map((key) => ({
          accessKeyId: key.id,
          secretAccessKey: key.secret,
          userName: key.userName,
          status: key.status,
          createDate: key.createDate,
          lastUsed: key.lastUsed === null ? null : { ...key.lastUsed },
        })),
        mfaDevices: [...state.mfaDevices.values()].map(viewMfaDevice),
        sessions: [...state.sessions.values()].map((session) => ({
          accessKeyId: session.accessKeyId,
          userName: session.userName,
          parentAccessKeyId: session.parentAccessKeyId,
          mfa: session.mfa,
          mfaSerialNumber: session.mfaSerialNumber,
          expiration: session.expiration,
          expired: iamTime >= session.expiration.getTime(),
        })),
      };
    },

    injectFault({ kind, action, service, count = 1, lostAs = 'reset' }) {
      if (count !== 'always' && !(Number.isInteger(count) && count > 0)) throw new Error("count must be a whole number above 0, or 'always'.");
      const fault: Fault = { id: nextFaultId++, kind, action: action ?? null, service: service ?? null, remaining: count, lostAs };
      faults.push(fault);
      return viewFault(fault);
    },

    listFaults: () => faults.map(viewFault),

    clearFaults() {
      faults = [];
    },

    getCallLog: () => log.map((entry) => ({ ...entry })),

    countCalls: (action) => log.filter((entry) => action === undefined || entry.action === action).length,

    clearCallLog() {
      log.length = 0;
    },

    hangingCalls: () => hanging.size,

    endHangingCalls() {
      for (const drop of [...hanging]) drop();
    },

    releaseCount: () => releases,
  };

  for (const user of users) control.createUser(user);
  for (const key of keys) control.createAccessKey(key);
  return { keyApi, control };
}
