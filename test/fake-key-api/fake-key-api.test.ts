import { IAMServiceException, LimitExceededException, NoSuchEntityException } from '@aws-sdk/client-iam';
import { STSServiceException } from '@aws-sdk/client-sts';
import { describe, expect, it } from 'vitest';
import { getAwsErrorCode, isKeyRefused, isNetworkOrTimeout, isRetryableAwsError, isServerFault, isThrottling } from '../../src/aws/errors.js';
import type { AwsCredentials, CallContext } from '../../src/aws/key-api.js';
import { createFakeClock } from '../support/fake-clock.js';
import { createFakeKeyApi, type FakeKeyApiInit } from '../support/fake-key-api.js';

const START = new Date('2026-11-24T07:00:00.250Z');
const SEEDED_DATE = '2026-01-01T00:00:00Z';

/** alice with one seeded key, on a fake clock that starts a quarter second past a whole second. */
function setup(init: FakeKeyApiInit = {}) {
  const clock = createFakeClock(START);
  const { keyApi, control } = createFakeKeyApi({ now: clock.now, ...init });
  control.createUser({ userName: 'alice' });
  const alice = control.createAccessKey({ userName: 'alice', createDate: SEEDED_DATE });
  const as = (credentials: AwsCredentials, signal?: AbortSignal): CallContext => ({ credentials, signal });
  return { clock, keyApi, control, alice, as };
}

type Failure = Error & Record<string, unknown> & { $metadata?: { httpStatusCode?: number } };

async function failure(promise: Promise<unknown>): Promise<Failure> {
  try {
    await promise;
  } catch (error) {
    return error as Failure;
  }
  throw new Error('expected the call to fail, but it succeeded');
}

/** Which of `promises` have settled once every pending microtask has run, before any timer. */
async function whichSettled(promises: readonly Promise<unknown>[]): Promise<boolean[]> {
  const settled = promises.map(() => false);
  promises.forEach((promise, index) => {
    promise.then(
      () => (settled[index] = true),
      () => (settled[index] = true),
    );
  });
  await new Promise((resolve) => setImmediate(resolve));
  return settled;
}

const hasSettled = async (promise: Promise<unknown>): Promise<boolean> => (await whichSettled([promise]))[0]!;

describe('identity and keys', () => {
  it('answers who signs, with ids shaped like AWS ones', async () => {
    const { keyApi, control, alice, as } = setup();
    expect(alice.accessKeyId).toMatch(/^AKIA[A-Z2-7]{16}$/);
    expect(alice.secretAccessKey).toHaveLength(40);
    await expect(keyApi.getCallerIdentity(as(alice))).resolves.toEqual({
      account: '123456789012',
      arn: 'arn:aws:iam::123456789012:user/alice',
      userId: expect.stringMatching(/^AIDA[A-Z2-7]{17}$/),
      userName: 'alice',
    });
    control.createUser({ userName: 'bot', path: '/ci/' });
    const bot = control.createAccessKey({ userName: 'bot' });
    expect(await keyApi.getCallerIdentity(as(bot))).toMatchObject({ arn: 'arn:aws:iam::123456789012:user/ci/bot', userName: 'bot' });
  });

  it("creates keys dated by IAM's clock in whole seconds, two at most, and lists them in order", async () => {
    const { keyApi, alice, as } = setup({ skewMs: -90_000 });
    const created = await keyApi.createAccessKey(as(alice));
    expect(created).toEqual({
      accessKeyId: expect.stringMatching(/^AKIA[A-Z2-7]{16}$/),
      secretAccessKey: expect.stringMatching(/^.{40}$/),
      userName: 'alice',
      status: 'Active',
      createDate: new Date('2026-11-24T06:58:30Z'),
    });
    const limit = await failure(keyApi.createAccessKey(as(alice)));
    expect(limit).toBeInstanceOf(LimitExceededException);
    expect(limit).toMatchObject({ name: 'LimitExceededException', $fault: 'client', message: 'Cannot exceed quota for AccessKeysPerUser: 2' });
    expect(limit.$metadata?.httpStatusCode).toBe(409);
    expect(getAwsErrorCode(limit)).toBe('LimitExceeded');
    expect(isRetryableAwsError(limit)).toBe(false);
    expect(await keyApi.listAccessKeys(as(alice))).toEqual({
      keys: [
        { accessKeyId: alice.accessKeyId, userName: 'alice', status: 'Active', createDate: new Date(SEEDED_DATE) },
        { accessKeyId: created.accessKeyId, userName: 'alice', status: 'Active', createDate: new Date('2026-11-24T06:58:30Z') },
      ],
      serverTime: new Date('2026-11-24T06:58:30Z'),
    });
  });

  it("updates and deletes a user's keys, and finds no key of someone else's", async () => {
    const { keyApi, control, alice, as } = setup();
    control.createUser({ userName: 'bob' });
    const bob = control.createAccessKey({ userName: 'bob' });
    const second = await keyApi.createAccessKey(as(alice));
    await keyApi.updateAccessKey(as(alice), second.accessKeyId, 'Inactive');
    expect(control.getState().accessKeys.find((key) => key.accessKeyId === second.accessKeyId)?.status).toBe('Inactive');
    await keyApi.deleteAccessKey(as(alice), second.accessKeyId, 'alice');
    expect(control.getState().accessKeys.map((key) => key.accessKeyId)).toEqual([alice.accessKeyId, bob.accessKeyId]);

    const gone = await failure(keyApi.deleteAccessKey(as(alice), second.accessKeyId));
    expect(gone).toBeInstanceOf(NoSuchEntityException);
    expect(gone).toMatchObject({ name: 'NoSuchEntityException', message: `The Access Key with id ${second.accessKeyId} cannot be found.` });
    expect(gone.$metadata?.httpStatusCode).toBe(404);
    expect(getAwsErrorCode(gone)).toBe('NoSuchEntity');
    expect((await failure(keyApi.updateAccessKey(as(alice), bob.accessKeyId, 'Inactive'))).name).toBe('NoSuchEntityException');
  });

  it("refuses another user's keys, lets an admin manage anyone's, and refuses denied actions", async () => {
    const { keyApi, control, alice, as } = setup();
    control.createUser({ userName: 'bob' });
    control.createUser({ userName: 'root', admin: true });
    control.createUser({ userName: 'dee', deniedActions: ['DeleteAccessKey'] });
    const bob = control.createAccessKey({ userName: 'bob' });
    const root = control.createAccessKey({ userName: 'root' });
    const dee = control.createAccessKey({ userName: 'dee' });

    const denied = await failure(keyApi.listAccessKeys(as(alice), 'bob'));
    expect(denied).toBeInstanceOf(IAMServiceException);
    expect(denied).toMatchObject({
      name: 'AccessDenied',
      message:
        'User: arn:aws:iam::123456789012:user/alice is not authorized to perform: iam:ListAccessKeys on resource: user bob ' +
        'because no identity-based policy allows the iam:ListAccessKeys action',
    });
    expect(denied.$metadata?.httpStatusCode).toBe(403);
    expect((await failure(keyApi.createAccessKey(as(alice), 'bob'))).name).toBe('AccessDenied');
    expect((await failure(keyApi.getAccessKeyLastUsed(as(alice), bob.accessKeyId))).name).toBe('AccessDenied');

    expect((await keyApi.listAccessKeys(as(root), 'bob')).keys.map((key) => key.accessKeyId)).toEqual([bob.accessKeyId]);
    await keyApi.deleteAccessKey(as(root), bob.accessKeyId, 'bob');
    const nobody = await failure(keyApi.listAccessKeys(as(root), 'nobody'));
    expect(nobody).toMatchObject({ name: 'NoSuchEntityException', message: 'The user with name nobody cannot be found.' });

    expect((await failure(keyApi.deleteAccessKey(as(dee), dee.accessKeyId))).message).toContain('iam:DeleteAccessKey');
    await expect(keyApi.listAccessKeys(as(dee))).resolves.toBeDefined();
  });

  it('reports the last use of a key: the service, the region and the date in IAM time', async () => {
    const { keyApi, alice, as, clock } = setup({ skewMs: 30_000 });
    expect(await keyApi.getAccessKeyLastUsed(as(alice), alice.accessKeyId)).toEqual({
      userName: 'alice',
      lastUsedDate: undefined,
      serviceName: undefined,
      region: undefined,
    });
    await keyApi.getCallerIdentity({ credentials: alice, region: 'eu-west-1' });
    clock.advance(60_000);
    expect(await keyApi.getAccessKeyLastUsed(as(alice), alice.accessKeyId)).toEqual({
      userName: 'alice',
      lastUsedDate: new Date('2026-11-24T07:00:30Z'),
      serviceName: 'sts',
      region: 'eu-west-1',
    });
    expect((await failure(keyApi.getAccessKeyLastUsed(as(alice), 'AKIAIOSFODNN7EXAMPLE'))).name).toBe('NoSuchEntityException');
  });

  it('checks parameters as IAM does', async () => {
    const { keyApi, alice, as } = setup();
    const error = await failure(keyApi.deleteAccessKey(as(alice), 'AKIASHORT'));
    expect(error).toMatchObject({
      name: 'ValidationError',
      message: "1 validation error detected: Value 'AKIASHORT' at 'accessKeyId' failed to satisfy constraint: Member must have length greater than or equal to 16",
    });
    expect(error.$metadata?.httpStatusCode).toBe(400);
    expect((await failure(keyApi.listAccessKeys(as(alice), ''))).name).toBe('ValidationError');
  });
});

describe('authentication', () => {
  it('refuses unknown, inactive and deleted keys, wrong secrets and tokens on long-term keys', async () => {
    const { keyApi, control, alice, as } = setup();
    const refusedBy = async (credentials: AwsCredentials) => {
      const [sts, iam] = [await failure(keyApi.getCallerIdentity(as(credentials))), await failure(keyApi.listAccessKeys(as(credentials)))];
      expect(sts).toBeInstanceOf(STSServiceException);
      expect(iam).toBeInstanceOf(IAMServiceException);
      expect([iam.name, iam.$metadata?.httpStatusCode, isKeyRefused(iam), isRetryableAwsError(iam)]).toEqual([sts.name, 403, true, false]);
      return sts.name;
    };
    expect(await refusedBy({ accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'x'.repeat(40) })).toBe('InvalidClientTokenId');
    expect(await refusedBy({ ...alice, secretAccessKey: 'x'.repeat(40) })).toBe('SignatureDoesNotMatch');
    expect(await refusedBy({ ...alice, sessionToken: 'token' })).toBe('InvalidClientTokenId');

    const second = control.createAccessKey({ userName: 'alice', status: 'Inactive' });
    expect(await refusedBy(second)).toBe('InvalidClientTokenId');
    await keyApi.updateAccessKey(as(alice), second.accessKeyId, 'Active');
    await keyApi.deleteAccessKey(as(second), alice.accessKeyId);
    expect(await refusedBy(alice)).toBe('InvalidClientTokenId');
    expect((await failure(keyApi.getCallerIdentity(as(alice)))).message).toBe('The security token included in the request is invalid.');
  });

  it('takes session credentials for STS, for IAM only with MFA, and refuses them once expired in IAM time', async () => {
    const { keyApi, control, alice, as, clock } = setup({ skewMs: 120_000 });
    const session = control.createSession({ accessKeyId: alice.accessKeyId, durationSeconds: 900 });
    expect(session.accessKeyId).toMatch(/^ASIA[A-Z2-7]{16}$/);
    expect(session.expiration).toEqual(new Date(START.getTime() + 120_000 + 900_000));
    const withMfa = control.createSession({ accessKeyId: alice.accessKeyId, mfa: true });

    expect((await keyApi.getCallerIdentity(as(session))).userName).toBe('alice');
    expect((await failure(keyApi.listAccessKeys(as(session)))).name).toBe('InvalidClientTokenId');
    await expect(keyApi.listAccessKeys(as(withMfa))).resolves.toBeDefined();
    expect((await failure(keyApi.getCallerIdentity(as({ ...session, sessionToken: withMfa.sessionToken })))).name).toBe('InvalidClientTokenId');
    expect((await failure(keyApi.getCallerIdentity(as({ ...session, secretAccessKey: alice.secretAccessKey })))).name).toBe('SignatureDoesNotMatch');

    clock.advance(899_999);
    await expect(keyApi.getCallerIdentity(as(session))).resolves.toBeDefined();
    clock.advance(1);
    const expired = await failure(keyApi.getCallerIdentity(as(session)));
    expect(expired).toMatchObject({ name: 'ExpiredToken', message: 'The security token included in the request is expired' });
    expect(getAwsErrorCode(expired)).toBe('ExpiredToken');

    control.expireSession(withMfa.accessKeyId);
    expect((await failure(keyApi.listAccessKeys(as(withMfa)))).name).toBe('ExpiredToken');
  });
});

describe('MFA (issue 13), as the emulator', () => {
  const explicitDeny = (action: string) =>
    `User: arn:aws:iam::123456789012:user/erin is not authorized to perform: ${action} on resource: user erin ` +
    'with an explicit deny in an identity-based policy: arn:aws:iam::123456789012:policy/Force_MFA';

  function forcedErin() {
    const fixture = setup();
    fixture.control.createUser({ userName: 'erin', forceMfa: true });
    const erin = fixture.control.createAccessKey({ userName: 'erin' });
    const device = fixture.control.createMfaDevice({ userName: 'erin', kind: 'virtual', codes: ['123456'] });
    return { ...fixture, erin, device };
  }

  it('denies every key action of a force-MFA user without MFA, explicitly, while STS still answers', async () => {
    const { keyApi, erin, as, control } = forcedErin();
    const calls = {
      'iam:ListAccessKeys': () => keyApi.listAccessKeys(as(erin)),
      'iam:CreateAccessKey': () => keyApi.createAccessKey(as(erin)),
      'iam:UpdateAccessKey': () => keyApi.updateAccessKey(as(erin), erin.accessKeyId, 'Inactive'),
      'iam:DeleteAccessKey': () => keyApi.deleteAccessKey(as(erin), erin.accessKeyId),
      'iam:GetAccessKeyLastUsed': () => keyApi.getAccessKeyLastUsed(as(erin), erin.accessKeyId),
    };
    for (const [action, call] of Object.entries(calls)) {
      const error = await failure(call());
      expect(error, action).toBeInstanceOf(IAMServiceException);
      expect(error, action).toMatchObject({ name: 'AccessDenied', message: explicitDeny(action) });
      expect(error.$metadata?.httpStatusCode).toBe(403);
    }
    expect((await keyApi.getCallerIdentity(as(erin))).userName).toBe('erin');
    expect(control.getState().accessKeys.map((key) => key.status)).toEqual(['Active', 'Active']);
    expect(control.getState().users.find((user) => user.userName === 'erin')).toMatchObject({
      forceMfa: true,
      forceMfaPolicyArn: 'arn:aws:iam::123456789012:policy/Force_MFA',
    });
  });

  it('makes a session from a right code only, once per 30 s, and that session outlives the key it came from', async () => {
    const { keyApi, erin, device, as, control, clock } = forcedErin();
    expect(() => control.createSession({ accessKeyId: erin.accessKeyId, serialNumber: device.serialNumber, tokenCode: '000000' })).toThrow(
      expect.objectContaining({ name: 'AccessDenied', message: 'MultiFactorAuthentication failed with invalid MFA one time pass code.' }),
    );
    expect(control.getState().sessions).toEqual([]);
    const session = control.createSession({ accessKeyId: erin.accessKeyId, serialNumber: device.serialNumber, tokenCode: '123456' });
    expect(() => control.createSession({ accessKeyId: erin.accessKeyId, serialNumber: device.serialNumber, tokenCode: '123456' })).toThrow(
      /invalid MFA one time pass code/,
    );
    clock.advance(30_000);
    control.createSession({ accessKeyId: erin.accessKeyId, serialNumber: device.serialNumber, tokenCode: '123456' });

    const fresh = await keyApi.createAccessKey(as(session));
    await keyApi.deleteAccessKey(as(session), erin.accessKeyId);
    expect((await keyApi.listAccessKeys(as(session))).keys.map((key) => key.accessKeyId)).toEqual([fresh.accessKeyId]);
    expect(control.getState().sessions[0]).toMatchObject({ parentAccessKeyId: erin.accessKeyId, mfa: true, mfaSerialNumber: device.serialNumber });
  });

  it('cannot validate a U2F key or a device of another user, and lists devices in getState', () => {
    const { control, erin } = forcedErin();
    const key = control.createMfaDevice({ userName: 'erin', kind: 'u2f' });
    const alices = control.createMfaDevice({ userName: 'alice', kind: 'hardware', codes: ['123456'] });
    for (const serialNumber of [key.serialNumber, alices.serialNumber]) {
      expect(() => control.createSession({ accessKeyId: erin.accessKeyId, serialNumber, tokenCode: '123456' })).toThrow(
        /unable to validate MFA code\. {2}Please verify your MFA serial number/,
      );
    }
    expect(control.setMfaCodes({ serialNumber: alices.serialNumber, codes: ['654321'] }).codes).toEqual(['654321']);
    expect(control.getState().mfaDevices.map((device) => [device.userName, device.kind])).toEqual([
      ['erin', 'virtual'],
      ['erin', 'u2f'],
      ['alice', 'hardware'],
    ]);
    expect(control.getState().mfaDevices[0]?.enableDate).toEqual(new Date('2026-11-24T07:00:00Z'));
  });
});

describe('activation delay', () => {
  it('refuses a new key per service until the injected clock has passed each delay, without waiting', async () => {
    const { keyApi, alice, as, clock } = setup({ activationDelayMs: { sts: 1_000, iam: 5_000 } });
    const fresh = await keyApi.createAccessKey(as(alice));
    expect((await failure(keyApi.getCallerIdentity(as(fresh)))).name).toBe('InvalidClientTokenId');
    expect((await failure(keyApi.listAccessKeys(as(fresh)))).name).toBe('InvalidClientTokenId');
    clock.advance(999);
    expect((await failure(keyApi.getCallerIdentity(as(fresh)))).name).toBe('InvalidClientTokenId');
    clock.advance(1);
    await expect(keyApi.getCallerIdentity(as(fresh))).resolves.toMatchObject({ userName: 'alice' });
    expect((await failure(keyApi.listAccessKeys(as(fresh)))).name).toBe('InvalidClientTokenId');
    clock.advance(4_000);
    await expect(keyApi.listAccessKeys(as(fresh))).resolves.toBeDefined();
    // Seeded keys are usable at once, whatever the delay, as in the emulator.
    await expect(keyApi.getCallerIdentity(as(alice))).resolves.toBeDefined();
  });

  it('takes a new delay for keys made afterwards', async () => {
    const { keyApi, control, alice, as } = setup();
    expect(control.setActivationDelay({ iam: 100 })).toEqual({ iam: 100, sts: 0 });
    const fresh = await keyApi.createAccessKey(as(alice));
    await expect(keyApi.getCallerIdentity(as(fresh))).resolves.toBeDefined();
    expect((await failure(keyApi.listAccessKeys(as(fresh)))).name).toBe('InvalidClientTokenId');
  });
});

describe("IAM's clock", () => {
  it('answers ListAccessKeys with its own time, whole seconds, however far from the test clock', async () => {
    const { keyApi, control, alice, as, clock } = setup({ skewMs: 7 * 60_000 });
    expect((await keyApi.listAccessKeys(as(alice))).serverTime).toEqual(new Date('2026-11-24T07:07:00Z'));
    control.setSkew(-3 * 3_600_000);
    clock.advance(1_800);
    expect(control.iamNow()).toEqual(new Date('2026-11-24T04:00:02.050Z'));
    expect((await keyApi.listAccessKeys(as(alice))).serverTime).toEqual(new Date('2026-11-24T04:00:02Z'));
    expect((await keyApi.createAccessKey(as(alice))).createDate).toEqual(new Date('2026-11-24T04:00:02Z'));
  });
});

describe('faults', () => {
  it('throttles the next N calls of one action, then lets calls through', async () => {
    const { keyApi, control, alice, as } = setup();
    control.injectFault({ kind: 'throttle', action: 'ListAccessKeys', count: 2 });
    for (let i = 0; i < 2; i += 1) {
      const error = await failure(keyApi.listAccessKeys(as(alice)));
      expect(error).toMatchObject({ name: 'Throttling', message: 'Rate exceeded', $fault: 'client' });
      expect(error.$metadata?.httpStatusCode).toBe(400);
      expect([isThrottling(error), isRetryableAwsError(error), isKeyRefused(error)]).toEqual([true, true, false]);
    }
    await expect(keyApi.getCallerIdentity(as(alice))).resolves.toBeDefined();
    await expect(keyApi.listAccessKeys(as(alice))).resolves.toBeDefined();
    expect(control.listFaults()).toEqual([]);
    expect(control.getCallLog().map((call) => [call.action, call.httpStatus, call.errorCode, call.fault])).toEqual([
      ['ListAccessKeys', 400, 'Throttling', 'throttle'],
      ['ListAccessKeys', 400, 'Throttling', 'throttle'],
      ['GetCallerIdentity', 200, null, null],
      ['ListAccessKeys', 200, null, null],
    ]);
  });

  it('fails with server errors that commit nothing, scoped to a service', async () => {
    const { keyApi, control, alice, as } = setup();
    control.injectFault({ kind: 'internal-failure', action: 'CreateAccessKey' });
    control.injectFault({ kind: 'service-unavailable', service: 'sts', count: 'always' });
    const internal = await failure(keyApi.createAccessKey(as(alice)));
    expect(internal).toMatchObject({ name: 'InternalFailure', $fault: 'server', message: 'An internal error has occurred. Retry your request.' });
    expect(internal.$metadata?.httpStatusCode).toBe(500);
    expect([isServerFault(internal), isRetryableAwsError(internal)]).toEqual([true, true]);
    expect(control.getState().accessKeys).toHaveLength(1);
    await expect(keyApi.listAccessKeys(as(alice))).resolves.toBeDefined();
    for (let i = 0; i < 3; i += 1) {
      const unavailable = await failure(keyApi.getCallerIdentity(as(alice)));
      expect(unavailable).toBeInstanceOf(STSServiceException);
      expect([unavailable.name, unavailable.$metadata?.httpStatusCode]).toEqual(['ServiceUnavailable', 503]);
    }
    expect(control.listFaults()).toEqual([expect.objectContaining({ kind: 'service-unavailable', service: 'sts', remaining: 'always' })]);
    control.clearFaults();
    await expect(keyApi.getCallerIdentity(as(alice))).resolves.toBeDefined();
  });

  it('applies AWS faults only after authentication, but a refused connection before it', async () => {
    const { keyApi, control, alice, as } = setup();
    const stranger = { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'x'.repeat(40) };
    control.injectFault({ kind: 'throttle' });
    expect((await failure(keyApi.getCallerIdentity(as(stranger)))).name).toBe('InvalidClientTokenId');
    expect(control.listFaults()).toHaveLength(1);
    expect((await failure(keyApi.getCallerIdentity(as(alice)))).name).toBe('Throttling');

    control.injectFault({ kind: 'connection-refused', service: 'iam' });
    const refused = await failure(keyApi.listAccessKeys(as(stranger)));
    expect(refused).toMatchObject({ code: 'ECONNREFUSED', message: 'connect ECONNREFUSED iam.amazonaws.com:443', endpoint: 'https://iam.amazonaws.com' });
    expect(refused.$metadata?.httpStatusCode).toBeUndefined();
    expect([isNetworkOrTimeout(refused), isRetryableAwsError(refused), isKeyRefused(refused)]).toEqual([true, true, false]);
    expect(control.getCallLog().at(-1)).toMatchObject({ action: 'ListAccessKeys', userName: null, httpStatus: null, errorCode: 'ECONNREFUSED', fault: 'connection-refused' });
  });

  it('times a call out as the SDK does, with no effect', async () => {
    const { keyApi, control, alice, as } = setup({ requestTimeoutMs: 2_000, endpoints: { iam: 'http://127.0.0.1:4566/' } });
    control.injectFault({ kind: 'timeout', action: 'CreateAccessKey' });
    const error = await failure(keyApi.createAccessKey(as(alice)));
    expect(error).toMatchObject({
      name: 'TimeoutError',
      code: 'ETIMEDOUT',
      message: '@smithy/node-http-handler - [ERROR] a request has exceeded the configured 2000 ms requestTimeout.',
      endpoint: 'http://127.0.0.1:4566',
    });
    expect(isNetworkOrTimeout(error)).toBe(true);
    expect(control.getState().accessKeys).toHaveLength(1);
  });

  it('commits, then loses the answer: the key exists although the call failed', async () => {
    const { keyApi, control, alice, as } = setup();
    control.injectFault({ kind: 'commit-then-lose', action: 'CreateAccessKey' });
    const lost = await failure(keyApi.createAccessKey(as(alice)));
    expect(lost).toMatchObject({ name: 'TimeoutError', code: 'ECONNRESET', message: 'socket hang up' });
    expect(isRetryableAwsError(lost)).toBe(true);
    expect(control.getState().accessKeys).toHaveLength(2);
    // The key nobody saw counts toward the limit.
    expect((await failure(keyApi.createAccessKey(as(alice)))).name).toBe('LimitExceededException');

    const orphan = control.getState().accessKeys[1]!.accessKeyId;
    control.injectFault({ kind: 'commit-then-lose', action: 'DeleteAccessKey', lostAs: 'timeout' });
    expect((await failure(keyApi.deleteAccessKey(as(alice), orphan))).code).toBe('ETIMEDOUT');
    expect(control.getState().accessKeys).toHaveLength(1);
  });

  it('hangs a call, with no effect, until its signal aborts', async () => {
    const { keyApi, control, alice, as } = setup();
    control.injectFault({ kind: 'hang', action: 'CreateAccessKey' });
    const controller = new AbortController();
    const pending = keyApi.createAccessKey(as(alice, controller.signal));
    expect(await hasSettled(pending)).toBe(false);
    expect(control.hangingCalls()).toBe(1);
    expect(control.getCallLog().at(-1)).toMatchObject({ action: 'CreateAccessKey', httpStatus: null, errorCode: null, fault: 'hang' });
    controller.abort(new Error('the caller gave up'));
    const error = await failure(pending);
    // The SDK ignores the abort reason.
    expect([error.name, error.message, error.endpoint]).toEqual(['AbortError', 'Request aborted', 'https://iam.amazonaws.com']);
    expect(control.hangingCalls()).toBe(0);
    expect(control.getCallLog().at(-1)?.errorCode).toBe('AbortError');
    expect(control.getState().accessKeys).toHaveLength(1);
  });

  it('commits, then hangs until the signal aborts', async () => {
    const { keyApi, control, alice, as } = setup();
    control.injectFault({ kind: 'hang-after-commit', action: 'DeleteAccessKey' });
    const controller = new AbortController();
    const pending = keyApi.deleteAccessKey(as(alice, controller.signal), alice.accessKeyId);
    expect(await hasSettled(pending)).toBe(false);
    expect(control.getState().accessKeys).toHaveLength(0);
    controller.abort();
    expect((await failure(pending)).name).toBe('AbortError');
  });

  it('ends hung calls without a signal as a dropped connection, on demand', async () => {
    const { keyApi, control, alice, as } = setup();
    control.injectFault({ kind: 'hang', count: 2 });
    const calls = [failure(keyApi.getCallerIdentity(as(alice))), failure(keyApi.listAccessKeys(as(alice)))];
    expect(control.hangingCalls()).toBe(2);
    control.endHangingCalls();
    expect((await Promise.all(calls)).map((error) => [error.name, error.code])).toEqual([
      ['TimeoutError', 'ECONNRESET'],
      ['TimeoutError', 'ECONNRESET'],
    ]);
    expect(control.hangingCalls()).toBe(0);
  });

  it('refuses a call whose signal has already aborted before AWS hears of it', async () => {
    const { keyApi, control, alice, as } = setup();
    const error = await failure(keyApi.createAccessKey(as(alice, AbortSignal.abort())));
    expect(error.name).toBe('AbortError');
    expect(control.getState().accessKeys).toHaveLength(1);
    expect(control.countCalls()).toBe(0);
  });

  it('throttles by a token bucket on the test clock, with no effect and no fault used up', async () => {
    const { keyApi, control, alice, as, clock } = setup({ rateLimit: { iam: { rate: 1, burst: 2 } } });
    control.injectFault({ kind: 'internal-failure', action: 'CreateAccessKey' });
    await keyApi.listAccessKeys(as(alice));
    await keyApi.listAccessKeys(as(alice));
    const throttled = await failure(keyApi.createAccessKey(as(alice)));
    expect([throttled.name, throttled.message, isThrottling(throttled)]).toEqual(['Throttling', 'Rate exceeded', true]);
    expect(control.getCallLog().at(-1)).toMatchObject({ httpStatus: 400, errorCode: 'Throttling', fault: 'rate-limit' });
    expect(control.listFaults()).toHaveLength(1);
    await expect(keyApi.getCallerIdentity(as(alice))).resolves.toBeDefined();
    clock.advance(1_000);
    expect((await failure(keyApi.createAccessKey(as(alice)))).name).toBe('InternalFailure');
    expect(control.setRateLimit({ iam: null })).toEqual({ iam: null, sts: null });
  });
});

describe('the call log and the timing of answers', () => {
  it('records each call: action, signer, user, status and code, for tests to count', async () => {
    const { keyApi, control, alice, as, clock } = setup();
    const stranger = { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'x'.repeat(40) };
    await keyApi.listAccessKeys(as(alice));
    clock.advance(5_000);
    await failure(keyApi.getCallerIdentity(as(stranger)));
    await keyApi.createAccessKey(as(alice));
    await failure(keyApi.createAccessKey(as(alice)));
    expect(control.getCallLog()).toEqual([
      { time: START, service: 'iam', action: 'ListAccessKeys', accessKeyId: alice.accessKeyId, userName: 'alice', httpStatus: 200, errorCode: null, fault: null },
      {
        time: new Date(START.getTime() + 5_000),
        service: 'sts',
        action: 'GetCallerIdentity',
        accessKeyId: stranger.accessKeyId,
        userName: null,
        httpStatus: 403,
        errorCode: 'InvalidClientTokenId',
        fault: null,
      },
      expect.objectContaining({ action: 'CreateAccessKey', httpStatus: 200 }),
      expect.objectContaining({ action: 'CreateAccessKey', httpStatus: 409, errorCode: 'LimitExceeded' }),
    ]);
    expect([control.countCalls(), control.countCalls('CreateAccessKey'), control.countCalls('DeleteAccessKey')]).toEqual([4, 2, 0]);
    control.clearCallLog();
    expect(control.countCalls()).toBe(0);
  });

  it('settles every call within microtasks, before any timer could fire', async () => {
    const { keyApi, alice, as } = setup({ activationDelayMs: 60_000 });
    const calls = [
      keyApi.getCallerIdentity(as(alice)),
      keyApi.listAccessKeys(as(alice)),
      keyApi.createAccessKey(as(alice)),
      keyApi.createAccessKey(as(alice)),
      keyApi.getAccessKeyLastUsed(as(alice), alice.accessKeyId),
    ];
    expect(await whichSettled(calls)).toEqual(calls.map(() => true));
  });

  it('counts release() calls, which change nothing else', async () => {
    const { keyApi, control, alice, as } = setup();
    keyApi.release();
    keyApi.release();
    expect(control.releaseCount()).toBe(2);
    await expect(keyApi.getCallerIdentity(as(alice))).resolves.toBeDefined();
  });
});

describe('error shapes', () => {
  it("builds AWS errors as the SDK does: its classes, the XML's fields, the raw answer hidden", async () => {
    const { keyApi, alice, as } = setup();
    const error = await failure(keyApi.deleteAccessKey(as(alice), 'AKIAIOSFODNN7EXAMPLE'));
    expect(Object.keys(error).sort()).toEqual(['$fault', '$metadata', '$retryable', 'Code', 'Error', 'RequestId', 'Type', 'message', 'name', 'xmlns']);
    expect(error).toMatchObject({
      Type: 'Sender',
      Code: 'NoSuchEntity',
      Error: { Type: 'Sender', Code: 'NoSuchEntity', Message: 'The Access Key with id AKIAIOSFODNN7EXAMPLE cannot be found.' },
      RequestId: error.$metadata && (error.$metadata as { requestId: string }).requestId,
      xmlns: 'https://iam.amazonaws.com/doc/2010-05-08/',
    });
    expect((error.$response as { statusCode: number }).statusCode).toBe(404);
  });
});

describe('control', () => {
  it('refuses to seed what IAM could not hold', () => {
    const { control } = setup();
    control.createAccessKey({ userName: 'alice' });
    expect(() => control.createAccessKey({ userName: 'alice' })).toThrow(/already has 2 access keys/);
    expect(() => control.createAccessKey({ userName: 'nobody' })).toThrow(/does not exist/);
    expect(() => control.createUser({ userName: 'alice' })).toThrow(/already exists/);
    expect(() => control.createUser({ userName: 'bad name' })).toThrow(/not a valid IAM user name/);
    expect(() => control.injectFault({ kind: 'throttle', count: 0 })).toThrow(/count/);
  });

  it('seeds users and keys given at creation, with their ids', async () => {
    const { keyApi } = createFakeKeyApi({
      users: [{ userName: 'carol' }],
      keys: [{ userName: 'carol', accessKeyId: 'AKIAEXAMPLECAROL0001', secretAccessKey: 's'.repeat(40) }],
    });
    const identity = await keyApi.getCallerIdentity({ credentials: { accessKeyId: 'AKIAEXAMPLECAROL0001', secretAccessKey: 's'.repeat(40) } });
    expect(identity.userName).toBe('carol');
  });
});
