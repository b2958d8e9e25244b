/**
 * Rotation where IAM demands MFA (issue 13, SPEC guarantee 8), on memfs and the in-memory KeyApi,
 * which follows the emulator's force-MFA policy, devices and GetSessionToken (parity.test.ts):
 * without a code nothing is made and the profile needs MFA, naming the device; with the right
 * code every IAM call of the rotation is signed by one MFA session; a wrong code, an expired
 * session and an interrupted rotation all leave both keys working until a fresh code finishes.
 */
import { describe, expect, it } from 'vitest';
import { CredentialsStore } from '../../src/credentials/index.js';
import type { Outcome } from '../../src/engine/outcome.js';
import type { HookRunner } from '../../src/rotation/hooks.js';
import { MfaCode } from '../../src/rotation/mfa.js';
import type { FakeAction } from '../support/fake-key-api.js';
import { createUnitHarness, DAY_MS, defaultSettings, profileSection, type UnitHarness, type UnitHarnessInit } from '../support/unit-harness.js';

type Key = { readonly accessKeyId: string; readonly secretAccessKey: string };

const CODE = '314159';
const NEXT_CODE = '271828';

interface Setup {
  forceMfa?: boolean;
  device?: 'virtual' | 'hardware' | 'u2f' | 'none';
  ageDays?: number;
  /** `mfa_serial` in the AWS config section of profile default. */
  mfaSerial?: 'device' | string;
}

/** User alice with one key in profile `default`, under AWS's force-MFA policy unless told otherwise, with a virtual MFA device. */
async function seedAlice({ forceMfa = true, device = 'virtual', ageDays = 100, mfaSerial }: Setup = {}, init: UnitHarnessInit = {}) {
  const h = createUnitHarness(init);
  h.fake.control.createUser({ userName: 'alice', forceMfa });
  const old = h.seedKey('alice', ageDays);
  const serial = device === 'none' ? undefined : h.fake.control.createMfaDevice({ userName: 'alice', kind: device, ...(device === 'u2f' ? {} : { codes: [CODE] }) }).serialNumber;
  await h.writeCredentials(profileSection('default', old));
  if (mfaSerial !== undefined) await h.writeAwsConfig(`[default]\nregion = eu-west-1\nmfa_serial = ${mfaSerial === 'device' ? serial : mfaSerial}\n`);
  return { h, old, serial: serial ?? '', original: await h.readCredentials() };
}

async function keyInFile(h: UnitHarness): Promise<Key> {
  const found = (await new CredentialsStore({ fs: h.rawFs, paths: h.paths }).read()).profiles.find((profile) => profile.name === 'default');
  if (found?.kind !== 'long-term') throw new Error('profile default holds no long-term key');
  return { accessKeyId: found.accessKeyId, secretAccessKey: found.secretAccessKey };
}

const callsOf = (h: UnitHarness, action: FakeAction) => h.fake.control.getCallLog().filter((call) => call.action === action);
const journals = (h: UnitHarness) => [...h.stateFiles().keys()].filter((path) => path.includes('/journal/'));

function failure(outcome: Outcome) {
  if (outcome.kind !== 'failed') throw new Error(`expected a failure, got ${outcome.kind}`);
  return outcome.error;
}

/** Nothing changed: the old key is the user's one key and in the file as it was, and no rotation is under way. */
async function expectUnchanged(h: UnitHarness, old: Key, original: string) {
  expect(h.keysOf('alice')).toEqual([{ accessKeyId: old.accessKeyId, secretAccessKey: old.secretAccessKey, status: 'Active' }]);
  expect(await h.readCredentials()).toBe(original);
  expect(journals(h)).toEqual([]);
  expect(callsOf(h, 'CreateAccessKey')).toEqual([]);
}

/** Rotated for good: the file's key is alice's one key and works; the old one is gone. */
async function expectRotated(h: UnitHarness, old: Key) {
  const inFile = await keyInFile(h);
  expect(inFile.accessKeyId).not.toBe(old.accessKeyId);
  expect(h.keysOf('alice')).toEqual([{ ...inFile, status: 'Active' }]);
  await expect(h.fake.keyApi.getCallerIdentity({ credentials: inFile })).resolves.toMatchObject({ userName: 'alice' });
}

describe('a user under the force-MFA policy', () => {
  it('without a code: needs-mfa naming the device and what to run, and nothing is made', async () => {
    const { h, old, serial, original } = await seedAlice();
    const outcome = await h.rotate();

    const error = failure(outcome);
    expect(error.code).toBe('needs-mfa');
    expect(error.message).toBe(`IAM lets user alice change access keys only with MFA, so profile default needs a code from the MFA device ${serial} to rotate.`);
    expect(error.hint).toContain('keyupctl rotate now --profile default');
    await expectUnchanged(h, old, original);
    // One refusal, one look at the devices: no loop of retries.
    expect(callsOf(h, 'ListAccessKeys')).toHaveLength(1);
    expect(callsOf(h, 'ListMFADevices')).toHaveLength(1);
    expect(callsOf(h, 'GetSessionToken')).toEqual([]);
  });

  it('with the right code: one MFA session signs every IAM call, and the old key is retired with it', async () => {
    const { h, old, serial } = await seedAlice();
    const outcome = await h.rotate({ ignoreAge: true, mfa: new MfaCode(CODE) });

    expect(outcome).toMatchObject({ kind: 'rotated', oldKeyId: old.accessKeyId });
    await expectRotated(h, old);
    const sessions = h.fake.control.getState().sessions;
    expect(sessions).toHaveLength(1);
    expect(sessions[0]).toMatchObject({ mfa: true, mfaSerialNumber: serial, parentAccessKeyId: old.accessKeyId });
    // The first ListAccessKeys was refused with the key alone; everything after it used the session.
    const iamCalls = h.fake.control.getCallLog().filter((call) => call.service === 'iam' && call.action !== 'ListMFADevices');
    expect(iamCalls[0]).toMatchObject({ action: 'ListAccessKeys', accessKeyId: old.accessKeyId, errorCode: 'AccessDenied' });
    for (const call of iamCalls.slice(1)) expect(call, call.action).toMatchObject({ accessKeyId: sessions[0]!.accessKeyId, errorCode: null });
    expect(iamCalls.slice(1).map((call) => call.action)).toEqual(['ListAccessKeys', 'CreateAccessKey', 'DeleteAccessKey']);
    expect(callsOf(h, 'GetSessionToken')).toHaveLength(1);
  });

  it('a wrong code is refused in one sentence and changes nothing', async () => {
    const { h, old, serial, original } = await seedAlice();
    const error = failure(await h.rotate({ ignoreAge: true, mfa: new MfaCode('000000') }));

    expect(error.code).toBe('mfa-code-refused');
    expect(error.message).toBe(`AWS refused the MFA code for the device ${serial}: it is not the one the device shows now, or it was used already; nothing was changed.`);
    await expectUnchanged(h, old, original);
    expect(h.fake.control.getState().sessions).toEqual([]);
  });

  it('a code used already (the same code twice within its 30 seconds) is refused, as AWS refuses it', async () => {
    const { h, old } = await seedAlice();
    await h.rotate({ ignoreAge: true, mfa: new MfaCode(CODE) });
    const again = await h.rotate({ ignoreAge: true, mfa: new MfaCode(CODE) });
    expect(failure(again).code).toBe('mfa-code-refused');
    expect(h.keysOf('alice')).toHaveLength(1);
    expect(h.keysOf('alice')[0]!.accessKeyId).not.toBe(old.accessKeyId);
  });

  it('a hardware token serves as a virtual device does', async () => {
    const { h, old, serial } = await seedAlice({ device: 'hardware' });
    expect(serial).toMatch(/^GAHT\d{8}$/);
    expect(failure(await h.rotate()).message).toContain(serial);
    expect(await h.rotate({ ignoreAge: true, mfa: new MfaCode(CODE) })).toMatchObject({ kind: 'rotated' });
    await expectRotated(h, old);
  });

  it('a FIDO-only user is told in one sentence that the API cannot use the key, and what to do', async () => {
    const { h, old, original } = await seedAlice({ device: 'u2f' });
    for (const mfa of [undefined, new MfaCode(CODE)]) {
      const error = failure(await h.rotate({ ignoreAge: true, ...(mfa === undefined ? {} : { mfa }) }));
      expect(error.code).toBe('mfa-unsupported');
      expect(error.message).toBe(
        'IAM lets user alice change access keys only with MFA, and it has only FIDO security keys as MFA devices, which AWS takes in the console but not through its API, so keyup cannot rotate profile default.',
      );
      expect(error.hint).toContain('Assign a virtual or hardware MFA device to user alice');
    }
    await expectUnchanged(h, old, original);
  });

  it('a user with no MFA device at all gets the explicit deny said as such', async () => {
    const { h, old, original } = await seedAlice({ device: 'none' });
    const error = failure(await h.rotate({ ignoreAge: true }));
    expect(error.code).toBe('access-denied');
    expect(error.message).toContain('iam:ListAccessKeys');
    expect(error.message).toContain('explicit deny');
    expect(error.hint).toContain('MFA device');
    await expectUnchanged(h, old, original);
  });

  it('a key keyup made is not due for a while, so a scheduled check asks for no code until it is', async () => {
    const { h } = await seedAlice();
    expect(await h.rotate({ ignoreAge: true, mfa: new MfaCode(CODE) })).toMatchObject({ kind: 'rotated' });
    const made = await keyInFile(h);

    h.clock.advance(30 * DAY_MS);
    const check = await h.rotate();
    expect(check).toMatchObject({ kind: 'current', keyId: made.accessKeyId, ageState: 'ok' });
    expect(check.kind === 'current' && check.ageDays).toBeCloseTo(30, 1);

    h.clock.advance(61 * DAY_MS);
    expect(failure(await h.rotate()).code).toBe('needs-mfa');
    expect(callsOf(h, 'CreateAccessKey')).toHaveLength(1);
  });

  it('an MFA session that runs out mid-rotation leaves both keys working, and a fresh code finishes the rotation', async () => {
    let expireSessions = () => {};
    // A hook that takes longer than the session lasts (the first time).
    const runHook: HookRunner = async () => {
      expireSessions();
      expireSessions = () => {};
      return { ok: true, elapsedMs: 1 };
    };
    const { h, old } = await seedAlice({}, { runHook });
    expireSessions = () => {
      for (const session of h.fake.control.getState().sessions) h.fake.control.expireSession(session.accessKeyId);
    };
    const settings = { ...defaultSettings, postRotate: [{ command: '/bin/true', argv: ['/bin/true'] }] };

    const first = await h.rotate({ settings, ignoreAge: true, mfa: new MfaCode(CODE) });
    const error = failure(first);
    expect(error.code).toBe('needs-mfa');
    expect(error.message).toMatch(/^The new key of profile default is in place, but the old key AKIA\S+ is still active: The MFA session ran out before the rotation of profile default ended; both keys still work\.$/);
    const keys = h.keysOf('alice');
    expect(keys).toHaveLength(2);
    expect(keys.every((key) => key.status === 'Active')).toBe(true);
    for (const key of keys) await expect(h.fake.keyApi.getCallerIdentity({ credentials: key })).resolves.toMatchObject({ userName: 'alice' });
    expect(journals(h)).toHaveLength(1);

    h.fake.control.setMfaCodes({ serialNumber: h.fake.control.getState().mfaDevices[0]!.serialNumber, codes: [NEXT_CODE] });
    const second = await h.rotate({ settings, ignoreAge: true, mfa: new MfaCode(NEXT_CODE) });
    expect(second).toMatchObject({ kind: 'rotated', oldKeyId: old.accessKeyId });
    await expectRotated(h, old);
    // The second session was made from the new key, the old one's replacement in the file.
    expect(h.fake.control.getState().sessions.at(-1)).toMatchObject({ parentAccessKeyId: (await keyInFile(h)).accessKeyId, mfa: true });
  });

  it('a rotation stopped mid-way needs a code to go on, refuses to guess without one, and a fresh code finishes it with no orphan', async () => {
    const { h, old } = await seedAlice();
    const stop = new AbortController();
    const stopped = await h.rotate({
      ignoreAge: true,
      mfa: new MfaCode(CODE),
      signal: stop.signal,
      // Stopped the moment the new key exists (a shutdown, or kill -9 with the journal at `created`).
      onStep: (step, _text, data) => {
        if (step === 'create' && data.newKeyId !== undefined) stop.abort();
      },
    });
    expect(failure(stopped).code).toBe('aborted');
    expect(h.keysOf('alice')).toHaveLength(2);

    // The next scheduled check: IAM shows nothing without MFA, so it says so and touches nothing.
    const check = await h.rotate();
    expect(failure(check).code).toBe('needs-mfa');
    expect(h.keysOf('alice')).toHaveLength(2);
    expect(await keyInFile(h)).toEqual({ accessKeyId: old.accessKeyId, secretAccessKey: old.secretAccessKey });

    h.fake.control.setMfaCodes({ serialNumber: h.fake.control.getState().mfaDevices[0]!.serialNumber, codes: [NEXT_CODE] });
    expect(await h.rotate({ ignoreAge: true, mfa: new MfaCode(NEXT_CODE) })).toMatchObject({ kind: 'rotated', oldKeyId: old.accessKeyId });
    await expectRotated(h, old);
  });
});

describe('mfa_serial in the AWS config file', () => {
  it('says IAM wants MFA before anything is made, even where IAM would list the keys without it', async () => {
    const { h, old, serial, original } = await seedAlice({ forceMfa: false, mfaSerial: 'device' });
    const error = failure(await h.rotate());
    expect(error.code).toBe('needs-mfa');
    expect(error.message).toContain(serial);
    await expectUnchanged(h, { ...old }, original);
    // The device was named: no need to look for one.
    expect(callsOf(h, 'ListMFADevices')).toEqual([]);
  });

  it('a key that is not due needs no code', async () => {
    const { h } = await seedAlice({ forceMfa: false, mfaSerial: 'device', ageDays: 10 });
    expect(await h.rotate()).toMatchObject({ kind: 'current', ageState: 'ok' });
    expect(callsOf(h, 'GetSessionToken')).toEqual([]);
  });

  it('with a code, makes the session with the named device before the first change', async () => {
    const { h, old, serial } = await seedAlice({ forceMfa: false, mfaSerial: 'device' });
    expect(await h.rotate({ mfa: new MfaCode(CODE) })).toMatchObject({ kind: 'rotated' });
    await expectRotated(h, old);
    expect(h.fake.control.getState().sessions[0]).toMatchObject({ mfaSerialNumber: serial });
    const actions = h.fake.control.getCallLog().map((call) => call.action);
    expect(actions.indexOf('GetSessionToken')).toBeLessThan(actions.indexOf('CreateAccessKey'));
    expect(callsOf(h, 'ListMFADevices')).toEqual([]);
  });

  it('a serial that is no device of the user is named, with where to correct it', async () => {
    const { h, old, original } = await seedAlice({ forceMfa: false, mfaSerial: 'arn:aws:iam::123456789012:mfa/nobody' });
    const error = failure(await h.rotate({ mfa: new MfaCode(CODE) }));
    expect(error.code).toBe('mfa-unsupported');
    expect(error.message).toBe('AWS cannot check codes of the MFA device arn:aws:iam::123456789012:mfa/nobody (mfa_serial of profile default): it is not a virtual or hardware MFA device of user alice.');
    expect(error.hint).toContain('mfa_serial of profile default');
    await expectUnchanged(h, old, original);
  });
});

describe('manage_with an identity under the force-MFA policy', () => {
  it('makes the session from the managing key and its device, and rotates the other user', async () => {
    const h = createUnitHarness();
    h.fake.control.createUser({ userName: 'admin', admin: true, forceMfa: true });
    const admin = h.seedKey('admin', 10);
    const device = h.fake.control.createMfaDevice({ userName: 'admin', kind: 'virtual', codes: [CODE] });
    const bot = h.seedUser('ci-bot', 100);
    await h.writeCredentials(profileSection('admin', admin) + profileSection('ci', bot));
    const settings = { ...defaultSettings, manageWith: 'admin' };

    const without = failure(await h.rotate({ profile: 'ci', settings }));
    expect(without.code).toBe('needs-mfa');
    expect(without.message).toBe(`IAM lets the IAM user of profile admin change access keys only with MFA, so profile ci needs a code from the MFA device ${device.serialNumber} to rotate.`);

    expect(await h.rotate({ profile: 'ci', settings, mfa: new MfaCode(CODE) })).toMatchObject({ kind: 'rotated', oldKeyId: bot.accessKeyId });
    expect(h.keysOf('ci-bot')).toHaveLength(1);
    expect(h.keysOf('ci-bot')[0]!.accessKeyId).not.toBe(bot.accessKeyId);
    expect(h.fake.control.getState().sessions[0]).toMatchObject({ parentAccessKeyId: admin.accessKeyId, mfaSerialNumber: device.serialNumber });
  });
});

describe('one code for a request of several profiles', () => {
  it('makes one session per device, shared by the profiles that need it; the others rotate without', async () => {
    const h = createUnitHarness();
    h.fake.control.createUser({ userName: 'alice', forceMfa: true });
    h.fake.control.createMfaDevice({ userName: 'alice', kind: 'virtual', codes: [CODE] });
    const alice = h.seedKey('alice', 100);
    const bob = h.seedUser('bob', 100);
    // Two profiles with alice's one key, and bob's.
    await h.writeCredentials(profileSection('work', alice) + profileSection('work-copy', alice) + profileSection('bob', bob));
    const engine = h.createEngine('[profile work]\n[profile work-copy]\n[profile bob]\n');

    const outcomes = await engine.run({ rotateNow: true, mfaCode: CODE });
    expect(outcomes.map((outcome) => [outcome.profile, outcome.kind])).toEqual([
      ['work', 'rotated'],
      ['work-copy', 'current'],
      ['bob', 'rotated'],
    ]);
    expect(callsOf(h, 'GetSessionToken')).toHaveLength(1);
    expect(h.fake.control.getState().sessions.filter((session) => session.userName === 'bob')).toEqual([]);
  });

  it('shows needs-mfa in the view, and still after a wrong code', async () => {
    const { h } = await seedAlice();
    const engine = h.createEngine('[profile default]\n');
    await engine.run({});
    expect(engine.view()[0]).toMatchObject({ state: 'needs-mfa', error: { code: 'needs-mfa' } });
    await engine.run({ rotateNow: true, mfaCode: '000000' });
    expect(engine.view()[0]).toMatchObject({ state: 'needs-mfa', error: { code: 'mfa-code-refused' } });
  });
});

describe('the code and the session stay in memory', () => {
  it('appear in no log line, journal, history or outcome', async () => {
    const { h } = await seedAlice();
    const made: string[] = [];
    const getSessionToken = h.fake.keyApi.getSessionToken;
    h.fake.keyApi.getSessionToken = async (ctx, request) => {
      const session = await getSessionToken(ctx, request);
      made.push(session.accessKeyId, session.secretAccessKey, session.sessionToken);
      return session;
    };
    const outcome = await h.rotate({ ignoreAge: true, mfa: new MfaCode(CODE) });
    expect(outcome.kind).toBe('rotated');
    expect(made).toHaveLength(3);
    const everything = [JSON.stringify(h.logs), JSON.stringify(outcome), ...h.stateFiles().values()].join('\n');
    for (const secret of [CODE, ...made]) expect(everything).not.toContain(secret);
  });
});
