import { GetSessionTokenCommand, STSClient } from '@aws-sdk/client-sts';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { startEmulator, type Emulator } from '../../emulator/index.js';
import { getAwsErrorCode, isKeyRefused, isNetworkOrTimeout, isRetryableAwsError, isServerFault, isThrottling } from '../../src/aws/errors.js';
import type { AwsCredentials, CallContext, KeyApi } from '../../src/aws/key-api.js';
import { createSdkKeyApi } from '../../src/aws/sdk-key-api.js';
import { isolateAwsEnvironment } from '../emulator/helpers.js';
import { createFakeClock } from '../support/fake-clock.js';
import { createFakeKeyApi, type FakeAction } from '../support/fake-key-api.js';

/**
 * The fake KeyApi is only worth its speed if the rotation engine cannot tell it from IAM. The same
 * script runs against the fake and against the real SDK (createSdkKeyApi) talking to the HTTP
 * emulator, and both must answer alike: values, error shapes and keyup's classification of them.
 */

isolateAwsEnvironment();

const ACTIVATION_MS = 500;
/** Short, because the `timeout` step waits it out for real on the emulator. */
const REQUEST_TIMEOUT_MS = 1_000;
const SEEDED_DATE = '2026-01-01T00:00:00Z';
const STRANGER: AwsCredentials = { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'x'.repeat(40) };
const WRONG_SECRET = 'w'.repeat(40);

type ParityFault = 'throttle' | 'internal-failure' | 'service-unavailable' | 'timeout' | 'hang' | 'commit-then-lose';

interface LoggedCall {
  action: string | null;
  accessKeyId: string | null;
  userName: string | null;
  httpStatus: number | null;
  errorCode: string | null;
}

/** What the script needs of either side; each says how it does it. */
interface Backend {
  readonly name: string;
  readonly keyApi: KeyApi;
  createUser(userName: string, init?: { admin?: boolean; deniedActions?: string[]; forceMfa?: boolean }): void;
  seedKey(userName: string): AwsCredentials;
  /**
   * GetSessionToken for the parent key's user; with MFA, a code of the user's virtual device
   * (made on first use), a fresh code each time since a code may not be used twice.
   */
  createSession(parent: AwsCredentials, mfa: boolean): Promise<AwsCredentials>;
  expireSession(accessKeyId: string): void;
  /** An enabled MFA device of the user that accepts `codes`; answers its serial number. */
  createMfaDevice(userName: string, kind: 'virtual' | 'u2f', init: { codes?: string[]; serialNumber?: string }): string;
  setActivationDelay(ms: number): void;
  /** Until `probe` succeeds: the fake moves its clock past the delay, the emulator is waited for. */
  outwaitActivation(probe: () => Promise<unknown>): Promise<void>;
  injectFault(kind: ParityFault, action: FakeAction): void;
  /** IAM's clock now. */
  iamNow(): Date;
  callLog(): LoggedCall[];
  goOffline(): Promise<void>;
}

/** A fresh code of the key's user's virtual MFA device, which is made on first use. */
function mfaCodeOf(emulator: Emulator, accessKeyId: string): { SerialNumber: string; TokenCode: string } {
  const state = emulator.getState();
  const userName = state.accessKeys.find((key) => key.accessKeyId === accessKeyId)?.userName ?? '';
  const serialNumber =
    state.mfaDevices.find((device) => device.userName === userName)?.serialNumber ??
    emulator.createMfaDevice({ userName, kind: 'virtual' }).serialNumber;
  const [code = ''] = emulator.setMfaCodes({ serialNumber, codes: [freshCode()] }).codes;
  return { SerialNumber: serialNumber, TokenCode: code };
}

let lastCode = 100_000;
const freshCode = (): string => String((lastCode += 1));

async function startEmulatorBackend(): Promise<Backend> {
  const emulator = await startEmulator({
    onUnexpectedError: (error) => {
      throw error;
    },
  });
  onTestFinished(() => emulator.stop());
  // A hang is how the emulator makes the SDK time out; a dropped answer is a commit then lost.
  const faults: Record<ParityFault, 'throttle' | 'internal-failure' | 'service-unavailable' | 'hang' | 'drop-response'> = {
    throttle: 'throttle',
    'internal-failure': 'internal-failure',
    'service-unavailable': 'service-unavailable',
    timeout: 'hang',
    hang: 'hang',
    'commit-then-lose': 'drop-response',
  };
  return {
    name: 'emulator',
    keyApi: createSdkKeyApi({
      iamEndpoint: emulator.endpoint,
      stsEndpoint: emulator.endpoint,
      requestTimeoutMs: REQUEST_TIMEOUT_MS,
      connectionTimeoutMs: REQUEST_TIMEOUT_MS,
    }),
    createUser: (userName, init = {}) => void emulator.createUser({ userName, ...init }),
    seedKey(userName) {
      const { accessKeyId, secretAccessKey } = emulator.createAccessKey({ userName, createDate: SEEDED_DATE });
      return { accessKeyId, secretAccessKey };
    },
    async createSession(parent, mfa) {
      const sts = new STSClient({ region: 'us-east-1', endpoint: emulator.endpoint, credentials: parent, maxAttempts: 1 });
      try {
        const mfaCode = mfa ? mfaCodeOf(emulator, parent.accessKeyId) : {};
        const { Credentials: session } = await sts.send(new GetSessionTokenCommand(mfaCode));
        if (session?.AccessKeyId === undefined || session.SecretAccessKey === undefined || session.SessionToken === undefined) {
          throw new Error('GetSessionToken answered without credentials');
        }
        return { accessKeyId: session.AccessKeyId, secretAccessKey: session.SecretAccessKey, sessionToken: session.SessionToken };
      } finally {
        sts.destroy();
      }
    },
    expireSession: (accessKeyId) => emulator.expireSessionToken({ accessKeyId }),
    createMfaDevice: (userName, kind, init) => emulator.createMfaDevice({ userName, kind, ...init }).serialNumber,
    setActivationDelay: (ms) => void emulator.setActivationDelay(ms),
    async outwaitActivation(probe) {
      await vi.waitFor(probe, { timeout: 10_000, interval: 20 });
    },
    injectFault: (kind, action) => void emulator.injectFault({ kind: faults[kind], action }),
    iamNow: () => new Date(),
    callLog: () => emulator.getCallLog(),
    goOffline: () => emulator.stop(),
  };
}

function createFakeBackend(): Backend {
  const clock = createFakeClock();
  const endpoint = 'http://127.0.0.1:4566';
  const { keyApi, control } = createFakeKeyApi({ now: clock.now, requestTimeoutMs: REQUEST_TIMEOUT_MS, endpoints: { iam: endpoint, sts: endpoint } });
  let activationDelayMs = 0;
  return {
    name: 'fake',
    keyApi,
    createUser: (userName, init = {}) => control.createUser({ userName, ...init }),
    seedKey(userName) {
      const { accessKeyId, secretAccessKey } = control.createAccessKey({ userName, createDate: SEEDED_DATE });
      return { accessKeyId, secretAccessKey };
    },
    async createSession(parent, mfa) {
      if (!mfa) return control.createSession({ accessKeyId: parent.accessKeyId });
      const state = control.getState();
      const userName = state.accessKeys.find((key) => key.accessKeyId === parent.accessKeyId)?.userName ?? '';
      const serialNumber =
        state.mfaDevices.find((device) => device.userName === userName)?.serialNumber ??
        control.createMfaDevice({ userName, kind: 'virtual' }).serialNumber;
      const [tokenCode = ''] = control.setMfaCodes({ serialNumber, codes: [freshCode()] }).codes;
      return control.createSession({ accessKeyId: parent.accessKeyId, serialNumber, tokenCode });
    },
    expireSession: (accessKeyId) => control.expireSession(accessKeyId),
    createMfaDevice: (userName, kind, init) => control.createMfaDevice({ userName, kind, ...init }).serialNumber,
    setActivationDelay(ms) {
      activationDelayMs = ms;
      control.setActivationDelay(ms);
    },
    async outwaitActivation(probe) {
      clock.advance(activationDelayMs);
      await probe();
    },
    injectFault: (kind, action) => void control.injectFault({ kind, action }),
    iamNow: control.iamNow,
    callLog: () => control.getCallLog(),
    goOffline: async () => void control.injectFault({ kind: 'connection-refused', count: 'always' }),
  };
}

/** One side's run of the script: its API and the credentials it has handed out, by name. */
interface Run {
  readonly backend: Backend;
  readonly api: KeyApi;
  readonly creds: Map<string, AwsCredentials>;
  as(name: string, tweak?: Partial<AwsCredentials>): CallContext;
  id(name: string): string;
}

interface CallStep {
  readonly kind: 'call';
  readonly label: string;
  /** `ok`, the AWS error code, or the network error's code. */
  readonly expected: string;
  readonly run: (run: Run) => Promise<unknown>;
  /** Keep the new key's credentials under this name. */
  readonly save?: string;
  /** The call never reaches AWS: the emulator logs nothing, the fake logs the attempt. */
  readonly unseenByAws?: boolean;
}

interface SetupStep {
  readonly kind: 'setup';
  readonly label: string;
  readonly run: (run: Run) => Promise<void> | void;
}

type Step = CallStep | SetupStep;

const call = (label: string, expected: string, run: CallStep['run'], options: Pick<CallStep, 'save' | 'unseenByAws'> = {}): Step => ({
  kind: 'call',
  label,
  expected,
  run,
  ...options,
});
const setup = (label: string, run: SetupStep['run']): Step => ({ kind: 'setup', label, run });

const script: Step[] = [
  setup('users and their first keys', (r) => {
    r.backend.createUser('alice');
    r.backend.createUser('bob');
    r.backend.createUser('carol');
    r.backend.createUser('root', { admin: true });
    r.backend.createUser('dee', { deniedActions: ['iam:DeleteAccessKey'] });
    for (const name of ['alice', 'bob', 'carol', 'root', 'dee']) r.creds.set(name, r.backend.seedKey(name));
    r.creds.set('stranger', STRANGER);
  }),

  call('identity of a key', 'ok', (r) => r.api.getCallerIdentity(r.as('alice'))),
  call('an unknown key is refused by STS', 'InvalidClientTokenId', (r) => r.api.getCallerIdentity(r.as('stranger'))),
  call('an unknown key is refused by IAM', 'InvalidClientTokenId', (r) => r.api.listAccessKeys(r.as('stranger'))),
  call('a wrong secret is refused by STS', 'SignatureDoesNotMatch', (r) => r.api.getCallerIdentity(r.as('alice', { secretAccessKey: WRONG_SECRET }))),
  call('a wrong secret is refused by IAM', 'SignatureDoesNotMatch', (r) => r.api.listAccessKeys(r.as('alice', { secretAccessKey: WRONG_SECRET }))),
  call('list own keys, with IAM time', 'ok', (r) => r.api.listAccessKeys(r.as('alice'))),
  call('create up to the limit', 'ok', (r) => r.api.createAccessKey(r.as('alice')), { save: 'alice2' }),
  call('create past the limit', 'LimitExceeded', (r) => r.api.createAccessKey(r.as('alice'))),
  call('the new key signs at once without a delay', 'ok', (r) => r.api.getCallerIdentity(r.as('alice2'))),
  call('list both keys', 'ok', (r) => r.api.listAccessKeys(r.as('alice'))),

  call('deactivate the new key', 'ok', (r) => r.api.updateAccessKey(r.as('alice'), r.id('alice2'), 'Inactive')),
  call('an inactive key is refused by STS', 'InvalidClientTokenId', (r) => r.api.getCallerIdentity(r.as('alice2'))),
  call('an inactive key is refused by IAM', 'InvalidClientTokenId', (r) => r.api.listAccessKeys(r.as('alice2'))),
  call('reactivate it', 'ok', (r) => r.api.updateAccessKey(r.as('alice'), r.id('alice2'), 'Active')),

  call('last use of an own key', 'ok', (r) => r.api.getAccessKeyLastUsed(r.as('alice'), r.id('alice'))),
  call("last use of another user's key", 'AccessDenied', (r) => r.api.getAccessKeyLastUsed(r.as('alice'), r.id('bob'))),
  call('last use of an unknown key', 'NoSuchEntity', (r) => r.api.getAccessKeyLastUsed(r.as('alice'), STRANGER.accessKeyId)),

  call("list another user's keys", 'AccessDenied', (r) => r.api.listAccessKeys(r.as('alice'), 'bob')),
  call('create a key for another user', 'AccessDenied', (r) => r.api.createAccessKey(r.as('alice'), 'bob')),
  call("delete another user's key", 'AccessDenied', (r) => r.api.deleteAccessKey(r.as('alice'), r.id('bob'), 'bob')),
  call("another user's key id is no key of one's own", 'NoSuchEntity', (r) => r.api.deleteAccessKey(r.as('alice'), r.id('bob'))),
  call("an admin lists another user's keys", 'ok', (r) => r.api.listAccessKeys(r.as('root'), 'bob')),
  call("an admin reads another user's key's last use", 'ok', (r) => r.api.getAccessKeyLastUsed(r.as('root'), r.id('bob'))),
  call('an admin names a user who does not exist', 'NoSuchEntity', (r) => r.api.listAccessKeys(r.as('root'), 'nobody')),
  call('a denied action on an own key', 'AccessDenied', (r) => r.api.deleteAccessKey(r.as('dee'), r.id('dee'))),
  call('delete an unknown key', 'NoSuchEntity', (r) => r.api.deleteAccessKey(r.as('alice'), STRANGER.accessKeyId)),
  call('a key id too short to be one', 'ValidationError', (r) => r.api.deleteAccessKey(r.as('alice'), 'AKIASHORT')),
  call('a user name IAM cannot have', 'ValidationError', (r) => r.api.listAccessKeys(r.as('alice'), 'bad name!')),

  call('delete the new key', 'ok', (r) => r.api.deleteAccessKey(r.as('alice'), r.id('alice2'))),
  call('a deleted key is refused', 'InvalidClientTokenId', (r) => r.api.getCallerIdentity(r.as('alice2'))),
  call('delete it again', 'NoSuchEntity', (r) => r.api.deleteAccessKey(r.as('alice'), r.id('alice2'))),

  setup('keys take a while to reach STS and IAM', (r) => r.backend.setActivationDelay(ACTIVATION_MS)),
  call('create a key that is not yet usable', 'ok', (r) => r.api.createAccessKey(r.as('carol')), { save: 'carol2' }),
  call('STS does not know the new key yet', 'InvalidClientTokenId', (r) => r.api.getCallerIdentity(r.as('carol2'))),
  call('IAM does not know the new key yet', 'InvalidClientTokenId', (r) => r.api.listAccessKeys(r.as('carol2'))),
  setup('outwait the activation delay', (r) =>
    r.backend.outwaitActivation(async () => {
      await r.api.getCallerIdentity(r.as('carol2'));
      await r.api.listAccessKeys(r.as('carol2'));
    }),
  ),
  call('STS knows the key now', 'ok', (r) => r.api.getCallerIdentity(r.as('carol2'))),
  call('IAM knows the key now', 'ok', (r) => r.api.listAccessKeys(r.as('carol2'))),
  setup('keys are usable at once again', (r) => r.backend.setActivationDelay(0)),
  setup('the engine ends a check', (r) => r.api.release?.()),

  setup('bob takes a session without and one with MFA', async (r) => {
    r.creds.set('bobSession', await r.backend.createSession(r.creds.get('bob')!, false));
    r.creds.set('bobMfa', await r.backend.createSession(r.creds.get('bob')!, true));
  }),
  call('a session names its user to STS', 'ok', (r) => r.api.getCallerIdentity(r.as('bobSession'))),
  call('IAM refuses a session without MFA', 'InvalidClientTokenId', (r) => r.api.listAccessKeys(r.as('bobSession'))),
  call('IAM accepts a session with MFA', 'ok', (r) => r.api.listAccessKeys(r.as('bobMfa'))),
  call("a session with another session's token", 'InvalidClientTokenId', (r) =>
    r.api.getCallerIdentity(r.as('bobSession', { sessionToken: r.creds.get('bobMfa')!.sessionToken })),
  ),
  call('a long-term key with a token', 'InvalidClientTokenId', (r) =>
    r.api.getCallerIdentity(r.as('bob', { sessionToken: r.creds.get('bobSession')!.sessionToken })),
  ),
  call('a session with a wrong secret', 'SignatureDoesNotMatch', (r) => r.api.getCallerIdentity(r.as('bobSession', { secretAccessKey: WRONG_SECRET }))),
  setup('the session expires', (r) => r.backend.expireSession(r.id('bobSession'))),
  call('an expired session', 'ExpiredToken', (r) => r.api.getCallerIdentity(r.as('bobSession'))),

  // Issue 13: AWS's force-MFA policy. The explicit deny's wording is what keyup decides on.
  setup('erin is under the force-MFA policy', (r) => {
    r.backend.createUser('erin', { forceMfa: true });
    r.creds.set('erin', r.backend.seedKey('erin'));
  }),
  call('her key still names her to STS', 'ok', (r) => r.api.getCallerIdentity(r.as('erin'))),
  call('listing her keys without MFA is denied explicitly', 'AccessDenied', (r) => r.api.listAccessKeys(r.as('erin'))),
  call('creating a key without MFA is denied explicitly', 'AccessDenied', (r) => r.api.createAccessKey(r.as('erin'))),
  call('deactivating without MFA is denied explicitly', 'AccessDenied', (r) => r.api.updateAccessKey(r.as('erin'), r.id('erin'), 'Inactive')),
  call('deleting without MFA is denied explicitly', 'AccessDenied', (r) => r.api.deleteAccessKey(r.as('erin'), r.id('erin'))),
  call('last use without MFA is denied explicitly', 'AccessDenied', (r) => r.api.getAccessKeyLastUsed(r.as('erin'), r.id('erin'))),
  setup('erin takes a session with a code of her device', async (r) => {
    r.creds.set('erinMfa', await r.backend.createSession(r.creds.get('erin')!, true));
  }),
  call('with MFA she lists her keys', 'ok', (r) => r.api.listAccessKeys(r.as('erinMfa'))),
  call('with MFA she creates a key', 'ok', (r) => r.api.createAccessKey(r.as('erinMfa')), { save: 'erin2' }),
  call('with MFA she deletes the key the session came from', 'ok', (r) => r.api.deleteAccessKey(r.as('erinMfa'), r.id('erin'))),
  call('the session outlives that key', 'ok', (r) => r.api.listAccessKeys(r.as('erinMfa'))),
  call('the deleted key itself is refused', 'InvalidClientTokenId', (r) => r.api.getCallerIdentity(r.as('erin'))),
  call("the new key is denied as the old one was, until it gets its own session", 'AccessDenied', (r) => r.api.listAccessKeys(r.as('erin2'))),

  // The KeyApi's own MFA calls, as the rotation makes them: devices without MFA, then a session.
  setup('frank is under the force-MFA policy, with a virtual device and a FIDO key', (r) => {
    r.backend.createUser('frank', { forceMfa: true });
    r.creds.set('frank', r.backend.seedKey('frank'));
    r.backend.createMfaDevice('frank', 'virtual', { codes: ['314159'] });
    r.backend.createMfaDevice('frank', 'u2f', { serialNumber: 'arn:aws:iam::123456789012:u2f/user/frank/key-ABCDEFGHIJKLMNOPQRSTUVWXYZ' });
  }),
  call('ListMFADevices is allowed without MFA', 'ok', (r) => r.api.listMfaDevices(r.as('frank'))),
  call("another user's devices are not frank's to list", 'AccessDenied', (r) => r.api.listMfaDevices(r.as('frank'), 'alice')),
  call('a wrong code is refused', 'AccessDenied', (r) => r.api.getSessionToken(r.as('frank'), { serialNumber: 'arn:aws:iam::123456789012:mfa/frank', tokenCode: '000000', durationSeconds: 900 })),
  call('a FIDO key cannot make a session', 'AccessDenied', (r) =>
    r.api.getSessionToken(r.as('frank'), { serialNumber: 'arn:aws:iam::123456789012:u2f/user/frank/key-ABCDEFGHIJKLMNOPQRSTUVWXYZ', tokenCode: '314159', durationSeconds: 900 }),
  ),
  call('a session shorter than STS allows', 'ValidationError', (r) => r.api.getSessionToken(r.as('frank'), { serialNumber: 'arn:aws:iam::123456789012:mfa/frank', tokenCode: '314159', durationSeconds: 60 })),
  call(
    'the right code makes a 15-minute session',
    'ok',
    async (r) => {
      const session = await r.api.getSessionToken(r.as('frank'), { serialNumber: 'arn:aws:iam::123456789012:mfa/frank', tokenCode: '314159', durationSeconds: 900 });
      const { expiration, ...rest } = session;
      // In minutes: AWS (and the emulator) give the expiry to the second, so seconds differ by one now and then.
      return { ...rest, lastsMinutes: expiration === undefined ? null : Math.round((expiration.getTime() - r.backend.iamNow().getTime()) / 60_000) };
    },
    { save: 'frankMfa' },
  ),
  call('the same code again is refused', 'AccessDenied', (r) => r.api.getSessionToken(r.as('frank'), { serialNumber: 'arn:aws:iam::123456789012:mfa/frank', tokenCode: '314159', durationSeconds: 900 })),
  call('a session cannot make a session', 'AccessDenied', (r) => r.api.getSessionToken(r.as('frankMfa'), { serialNumber: 'arn:aws:iam::123456789012:mfa/frank', tokenCode: '314159', durationSeconds: 900 })),
  call('the MFA session lists his keys', 'ok', (r) => r.api.listAccessKeys(r.as('frankMfa'))),

  setup('IAM throttles one ListAccessKeys', (r) => r.backend.injectFault('throttle', 'ListAccessKeys')),
  call('throttled', 'Throttling', (r) => r.api.listAccessKeys(r.as('alice'))),
  call('the next call goes through', 'ok', (r) => r.api.listAccessKeys(r.as('alice'))),
  setup('IAM fails one CreateAccessKey', (r) => r.backend.injectFault('internal-failure', 'CreateAccessKey')),
  call('an internal failure', 'InternalFailure', (r) => r.api.createAccessKey(r.as('alice'))),
  call('that failure created nothing', 'ok', (r) => r.api.listAccessKeys(r.as('alice'))),
  setup('STS is unavailable once', (r) => r.backend.injectFault('service-unavailable', 'GetCallerIdentity')),
  call('unavailable', 'ServiceUnavailable', (r) => r.api.getCallerIdentity(r.as('alice'))),

  call('create a key to lose the answer about', 'ok', (r) => r.api.createAccessKey(r.as('alice')), { save: 'alice3' }),
  setup('IAM deletes, then the answer is lost', (r) => r.backend.injectFault('commit-then-lose', 'DeleteAccessKey')),
  call('the delete seems to fail', 'ECONNRESET', (r) => r.api.deleteAccessKey(r.as('alice'), r.id('alice3'))),
  call('yet the key is gone', 'ok', (r) => r.api.listAccessKeys(r.as('alice'))),
  call('and deleting it again finds nothing', 'NoSuchEntity', (r) => r.api.deleteAccessKey(r.as('alice'), r.id('alice3'))),

  setup('STS never answers one call', (r) => r.backend.injectFault('timeout', 'GetCallerIdentity')),
  call('the request times out', 'ETIMEDOUT', (r) => r.api.getCallerIdentity(r.as('alice'))),
  setup('IAM holds one ListAccessKeys', (r) => r.backend.injectFault('hang', 'ListAccessKeys')),
  call('a hung call ends when its signal aborts', 'AbortError', async (r) => {
    const controller = new AbortController();
    const before = r.backend.callLog().length;
    const pending = r.api.listAccessKeys({ ...r.as('alice'), signal: controller.signal });
    pending.catch(() => {});
    await vi.waitFor(
      () => {
        if (r.backend.callLog().length === before) throw new Error('the call has not reached AWS yet');
      },
      { timeout: 5_000, interval: 10 },
    );
    controller.abort();
    return pending;
  }),
  call('an aborted signal stops the call before it is sent', 'AbortError', (r) => r.api.getCallerIdentity({ ...r.as('alice'), signal: AbortSignal.abort() })),

  setup('AWS cannot be reached', (r) => r.backend.goOffline()),
  call('the connection is refused', 'ECONNREFUSED', (r) => r.api.getCallerIdentity(r.as('alice')), { unseenByAws: true }),
];

/** What one call step observed, with everything random (ids, secrets, times) named instead. */
interface Outcome {
  readonly label: string;
  readonly code: string;
  readonly result: unknown;
  /** How many calls AWS saw, and the last of them. */
  readonly calls?: number;
  readonly lastCall?: unknown;
}

const KEY_ID = /\b(?:AKIA|ASIA)[A-Z2-7]{16}\b/g;
const USER_ID = /^AIDA[A-Z2-7]{17}$/;

function createNormalizer(run: Run, at: Date) {
  const names: [string, string][] = [];
  for (const [name, creds] of run.creds) {
    names.push([creds.accessKeyId, `<${name}>`], [creds.secretAccessKey, `<${name}:secret>`]);
    if (creds.sessionToken !== undefined) names.push([creds.sessionToken, `<${name}:token>`]);
  }
  const normalize = (value: unknown): unknown => {
    if (value instanceof Date) {
      if (value.getUTCMilliseconds() !== 0) return `<not whole seconds: ${value.toISOString()}>`;
      return Math.abs(value.getTime() - at.getTime()) < 10_000 ? '<now>' : value.toISOString();
    }
    if (typeof value === 'string') {
      let text = value;
      for (const [from, to] of names) text = text.split(from).join(to);
      text = text.replace(KEY_ID, '<unknown key>').replace(/\b\d{1,3}(?:\.\d{1,3}){3}:\d+\b/g, '<address>');
      return USER_ID.test(text) ? '<user id>' : text;
    }
    if (Array.isArray(value)) return value.map(normalize);
    if (typeof value === 'object' && value !== null) {
      return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, normalize(inner)]));
    }
    return value;
  };
  return normalize;
}

type ErrorFields = Error & Record<string, unknown> & { $metadata?: Record<string, unknown>; $response?: { statusCode?: number; headers?: Record<string, string> } };

/** The code a step expects: the network error's `code`, else the AWS code, else the name (AbortError). */
function codeOf(error: unknown): string {
  const { code, name } = error as ErrorFields;
  return typeof code === 'string' ? code : (getAwsErrorCode(error) ?? name);
}

/** Everything of an error that code could look at, and how keyup classifies it. */
function describeError(error: unknown, normalize: (value: unknown) => unknown): unknown {
  const e = error as ErrorFields;
  const metadata = e.$metadata;
  return {
    class: e.constructor.name,
    name: e.name,
    message: normalize(e.message),
    enumerable: Object.keys(e).sort(),
    fields: normalize(Object.fromEntries(Object.entries(e).filter(([key]) => !key.startsWith('$') && key !== 'RequestId' && key !== 'port'))),
    $fault: e.$fault,
    $metadata: metadata && { keys: Object.keys(metadata).sort(), ...metadata, requestId: typeof metadata['requestId'] },
    requestIdRepeated: e['RequestId'] === undefined ? undefined : e['RequestId'] === metadata?.['requestId'],
    $response: e.$response && {
      statusCode: e.$response.statusCode,
      requestId: e.$response.headers?.['x-amzn-requestid'] === metadata?.['requestId'],
      date: e.$response.headers?.['date'] === undefined ? undefined : normalize(new Date(e.$response.headers['date'])),
    },
    classified: {
      code: getAwsErrorCode(error),
      keyRefused: isKeyRefused(error),
      retryable: isRetryableAwsError(error),
      throttling: isThrottling(error),
      networkOrTimeout: isNetworkOrTimeout(error),
      serverFault: isServerFault(error),
    },
  };
}

async function runScript(backend: Backend): Promise<Outcome[]> {
  const creds = new Map<string, AwsCredentials>();
  const run: Run = {
    backend,
    api: backend.keyApi,
    creds,
    as(name, tweak = {}) {
      const found = creds.get(name);
      if (found === undefined) throw new Error(`the script has no credentials named ${name}`);
      return { credentials: { ...found, ...tweak } };
    },
    id: (name) => run.as(name).credentials.accessKeyId,
  };
  const outcomes: Outcome[] = [];
  for (const step of script) {
    if (step.kind === 'setup') {
      await step.run(run);
      continue;
    }
    const before = backend.callLog().length;
    let result: { value: unknown } | { error: unknown };
    try {
      result = { value: await step.run(run) };
    } catch (error) {
      result = { error };
    }
    if (step.save !== undefined && 'value' in result) {
      const { accessKeyId, secretAccessKey, sessionToken } = result.value as AwsCredentials;
      creds.set(step.save, sessionToken === undefined ? { accessKeyId, secretAccessKey } : { accessKeyId, secretAccessKey, sessionToken });
    }
    const normalize = createNormalizer(run, backend.iamNow());
    const code = 'value' in result ? 'ok' : codeOf(result.error);
    expect.soft(code, `${backend.name}: ${step.label}`).toBe(step.expected);
    const log = backend.callLog();
    const last = log.length > before ? log.at(-1) : undefined;
    outcomes.push({
      label: step.label,
      code,
      result: 'value' in result ? normalize(result.value) : describeError(result.error, normalize),
      ...(step.unseenByAws === true
        ? {}
        : {
            calls: log.length - before,
            lastCall: last && normalize({
              action: last.action,
              accessKeyId: last.accessKeyId,
              userName: last.userName,
              httpStatus: last.httpStatus,
              // Without an answer the emulator has no code to log; the fake notes what the caller got.
              errorCode: last.httpStatus === null ? '<no answer>' : last.errorCode,
            }),
          }),
    });
  }
  return outcomes;
}

describe('the fake KeyApi and the SDK against the emulator', () => {
  it('answer the same script alike: results, error shapes and their classification', async () => {
    const real = await runScript(await startEmulatorBackend());
    const fake = await runScript(createFakeBackend());
    expect(fake.map((outcome) => outcome.label)).toEqual(real.map((outcome) => outcome.label));
    for (const [index, expected] of real.entries()) {
      expect.soft(fake[index], `step ${index + 1}: ${expected.label}`).toEqual(expected);
    }
  });
});
