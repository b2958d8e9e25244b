/**
 * The Rotator's behaviour on memfs, the in-memory KeyApi and a clock whose sleeps take no time
 * (issue 8): every wait for IAM, every backoff and every timeout runs on the fake clock, so the
 * whole file runs in well under a few seconds. The emulator and the real SDK keep the
 * integration tests (rotator.test.ts, holes.test.ts, recovery.test.ts, looping-writer.test.ts).
 */
import { dirname } from 'node:path';
import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { CredentialsStore } from '../../src/credentials/index.js';
import type { Step, StepData } from '../../src/engine/events.js';
import { formatErrorInfo, type Outcome } from '../../src/engine/outcome.js';
import type { FileSystem } from '../../src/fs/fs.js';
import type { JournalEntry } from '../../src/rotation/journal.js';
import { createSystemError, hookFs } from '../credentials/support.js';
import type { FakeAction, FakeSeededKey } from '../support/fake-key-api.js';
import {
  createTestClock,
  createUnitHarness,
  DAY_MS,
  defaultSettings,
  HOME,
  MINUTE_MS,
  profileSection,
  SECOND_MS,
  START,
  type UnitHarness,
  type UnitHarnessInit,
} from '../support/unit-harness.js';

type Key = { readonly accessKeyId: string; readonly secretAccessKey: string };

/** A hand-kept credentials file: a comment, odd spacing, another profile before the managed one. */
function handKept(key: Key, extra = ''): string {
  return [
    '# my AWS keys — do not share',
    '[other]',
    'aws_access_key_id = AKIAOTHEROTHEROTHER1',
    'aws_secret_access_key = other-secret',
    '',
    '[default]   ; the main one',
    `aws_access_key_id=${key.accessKeyId}`,
    `aws_secret_access_key =   ${key.secretAccessKey}`,
    'region = eu-west-1',
    extra,
  ].join('\n');
}

/** A harness with user alice, whose one key of `ageDays` is in profile `default` of a hand-kept file. */
async function seedAlice(ageDays = 100, init: UnitHarnessInit = {}) {
  const h = createUnitHarness(init);
  const old = h.seedUser('alice', ageDays);
  await h.writeCredentials(handKept(old));
  return { h, old, original: await h.readCredentials() };
}

/** Outcomes travel over the socket and into the state file as they are. */
function expectPlain(outcome: Outcome | readonly Outcome[]) {
  expect(JSON.parse(JSON.stringify(outcome))).toEqual(outcome);
}

async function keyInFile(h: UnitHarness, profile = 'default'): Promise<Key> {
  const snapshot = await new CredentialsStore({ fs: h.rawFs, paths: h.paths }).read();
  const found = snapshot.profiles.find((candidate) => candidate.name === profile);
  if (found?.kind !== 'long-term') throw new Error(`profile ${profile} holds no long-term key`);
  return { accessKeyId: found.accessKeyId, secretAccessKey: found.secretAccessKey };
}

/** What a person needs after any run: the file's key works and is the user's one key; no lock; the journal at most a safety copy. */
async function expectSettled(h: UnitHarness, profile = 'default', userName = 'alice') {
  const inFile = await keyInFile(h, profile);
  expect(h.keysOf(userName)).toEqual([{ ...inFile, status: 'Active' }]);
  await expect(h.fake.keyApi.getCallerIdentity({ credentials: inFile })).resolves.toMatchObject({ userName });
  const state = h.stateFiles();
  expect([...state.keys()].filter((path) => path.endsWith('.lock'))).toEqual([]);
  for (const [path, text] of state) if (path.includes('/journal/')) expect(JSON.parse(text), path).toMatchObject({ step: 'retired' });
}

const actions = (h: UnitHarness) => h.fake.control.getCallLog().map((call) => call.action);
const callsOf = (h: UnitHarness, action: FakeAction) => h.fake.control.getCallLog().filter((call) => call.action === action);
const message = (outcome: Outcome) => (outcome.kind === 'failed' ? formatErrorInfo(outcome.error) : `not failed: ${JSON.stringify(outcome)}`);

/** Real time: nothing here may wait for a timer. */
async function timed<T>(work: () => Promise<T>): Promise<{ value: T; realMs: number }> {
  const started = performance.now();
  const value = await work();
  return { value, realMs: performance.now() - started };
}

/** Resolves once `condition` holds, checking after every turn of the event loop; fails after `ms` of real time. */
async function waitFor(what: string, condition: () => boolean, ms = 2_000): Promise<void> {
  const deadline = performance.now() + ms;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** The promise's value, or a failure after `ms` of real time (a call the abort did not end). */
async function within<T>(promise: Promise<T>, ms = 2_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise, new Promise<never>((_resolve, reject) => (timer = setTimeout(() => reject(new Error(`not settled within ${ms} ms`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

/** A journal entry as keyup writes it at `step`, for alice's rotation from `old` to `fresh`. */
function journalEntry(h: UnitHarness, old: Key, fresh: FakeSeededKey, step: 'created' | 'verified' | 'written'): JournalEntry {
  const { accountId } = h.fake.control;
  return {
    version: 2,
    profile: 'default',
    step,
    startedAt: h.clock.now().toISOString(),
    force: false,
    user: { name: 'alice', arn: `arn:aws:iam::${accountId}:user/alice`, account: accountId },
    oldKey: 'delete',
    oldKeyId: old.accessKeyId,
    knownKeyIds: [old.accessKeyId],
    newKey: { accessKeyId: fresh.accessKeyId, secretAccessKey: fresh.secretAccessKey, createDate: fresh.createDate.toISOString() },
  };
}

type Operation = 'open-new' | 'rename';

/** memfs with chosen operations failing with an OS error code, as a full disk or a bind mount does. */
function failing(fails: (op: Operation, path: string) => string | false): (fs: FileSystem) => FileSystem {
  return (fs) =>
    hookFs(fs, {
      async open(path, flags, mode) {
        const code = typeof flags === 'string' && flags.startsWith('w') ? fails('open-new', path) : false;
        if (code !== false) throw Object.assign(createSystemError(code), { path });
        return fs.promises.open(path, flags, mode);
      },
      async rename(from, to) {
        const code = fails('rename', to);
        if (code !== false) throw Object.assign(createSystemError(code), { path: to });
        return fs.promises.rename(from, to);
      },
    });
}

const CREDENTIALS = `${HOME}/.aws/credentials`;

describe('the test clock', () => {
  it('moves by each sleep at once, and rejects a sleep whose signal has aborted, as the real sleep does', async () => {
    const clock = createTestClock();
    await clock.sleep(8 * SECOND_MS);
    expect(clock.now()).toEqual(new Date(START.getTime() + 8 * SECOND_MS));
    const stop = new AbortController();
    const reason = new Error('shutting down');
    stop.abort(reason);
    await expect(clock.sleep(SECOND_MS, stop.signal)).rejects.toBe(reason);
    expect(clock.sleeps).toEqual([8 * SECOND_MS]);
  });
});

describe('a rotation', () => {
  it('rotates a due key: only the two values change, the old key goes, history kept, the journal kept only as the safety copy', async () => {
    const { h, old, original } = await seedAlice(100);
    const { value: outcome, realMs } = await timed(() => h.rotate());
    const [fresh] = h.fake.control.getState().accessKeys;
    expect(h.keysOf('alice')).toEqual([{ accessKeyId: fresh?.accessKeyId, secretAccessKey: fresh?.secretAccessKey, status: 'Active' }]);
    expect(fresh?.accessKeyId).not.toBe(old.accessKeyId);
    expect(outcome).toEqual({
      kind: 'rotated',
      profile: 'default',
      user: 'alice',
      account: h.fake.control.accountId,
      oldKeyId: old.accessKeyId,
      newKeyId: fresh?.accessKeyId,
      keyCreated: fresh?.createDate.toISOString(),
      holders: [{ file: 'credentials', profile: 'default' }],
      notes: [],
    });
    expectPlain(outcome);

    // Only the two values differ: putting the old ones back gives the original bytes.
    const text = await h.readCredentials();
    expect(text.replace(fresh!.accessKeyId, old.accessKeyId).replace(fresh!.secretAccessKey, old.secretAccessKey)).toBe(original);
    expect(text).toContain(`aws_access_key_id=${fresh?.accessKeyId}\n`);

    const state = h.stateFiles();
    // The backup is a copy of the file from before the rewrite: the retired secret is in it by design.
    const backups = [...state].filter(([path]) => path.includes('/backups/'));
    expect(backups.map(([, backup]) => backup)).toEqual([original]);
    for (const [path] of backups) state.delete(path);
    expect(await h.history()).toEqual([
      { profile: 'default', at: h.clock.now().toISOString(), oldKeyId: old.accessKeyId, newKeyId: fresh?.accessKeyId, newKeyCreated: START.toISOString(), ok: true, profiles: ['default'] },
    ]);
    state.delete(`${h.paths.stateDir}/history.json`);
    const journal = state.get(`${h.paths.stateDir}/journal/default.json`);
    expect(JSON.parse(journal ?? '{}')).toMatchObject({ step: 'retired', retiredAt: h.clock.now().toISOString(), newKey: { accessKeyId: fresh?.accessKeyId, secretAccessKey: fresh?.secretAccessKey } });
    expect(journal).not.toContain(old.secretAccessKey);
    state.delete(`${h.paths.stateDir}/journal/default.json`);
    // Nothing else: no lock left, no temp file.
    expect([...state.keys()]).toEqual([]);
    for (const secret of [old.secretAccessKey, fresh!.secretAccessKey]) expect(JSON.stringify(h.logs)).not.toContain(secret);

    // Seven AWS calls: whose key, its age, the new key, seen working three times in a row, the old one deleted.
    expect(actions(h)).toEqual(['GetCallerIdentity', 'ListAccessKeys', 'CreateAccessKey', 'GetCallerIdentity', 'GetCallerIdentity', 'GetCallerIdentity', 'DeleteAccessKey']);
    // The three confirmations were spread over time: on the fake clock, not the real one.
    expect(h.clock.elapsedMs()).toBeGreaterThanOrEqual(2 * SECOND_MS);
    expect(realMs).toBeLessThan(1_000);
  });

  it('does not call a finished rotation failed when its history cannot be written', async () => {
    const { h } = await seedAlice(100);
    await h.rawFs.promises.mkdir(`${h.paths.stateDir}/history.json`, { recursive: true, mode: 0o700 });
    expect(await h.rotate()).toMatchObject({ kind: 'rotated' });
    expect(h.logs.some((line) => String(line.msg).startsWith('Could not record the rotation of profile default'))).toBe(true);
    await expectSettled(h);
  });

  it('leaves a key that is not due alone and says how old it is, asking AWS only whose key it is and how old', async () => {
    const { h, old, original } = await seedAlice(10);
    const outcome = await h.rotate();
    expect(outcome).toEqual({
      kind: 'current',
      profile: 'default',
      user: 'alice',
      account: h.fake.control.accountId,
      keyId: old.accessKeyId,
      keyCreated: old.createDate.toISOString(),
      ageDays: 10,
      maxAgeDays: 90,
      ageState: 'ok',
      notes: [],
    });
    expectPlain(outcome);
    expect(await h.readCredentials()).toBe(original);
    expect(actions(h)).toEqual(['GetCallerIdentity', 'ListAccessKeys']);
    expect(h.stateFiles().size).toBe(0);
  });

  it('warns from warn_age_days, and rotates whatever the age when asked to rotate now', async () => {
    const { h, old } = await seedAlice(85);
    expect(await h.rotate()).toMatchObject({ kind: 'current', ageState: 'warn', ageDays: 85 });
    expect(callsOf(h, 'CreateAccessKey')).toEqual([]);
    expect(await h.rotate({ ignoreAge: true })).toMatchObject({ kind: 'rotated', oldKeyId: old.accessKeyId });
    await expectSettled(h);
  });

  it('rotates at every check with max_age_days = 0', async () => {
    const { h } = await seedAlice(0);
    expect(await h.rotate({ settings: { ...defaultSettings, maxAgeDays: 0 } })).toMatchObject({ kind: 'rotated' });
  });

  it('deactivates the old key instead of deleting it when old_key = deactivate', async () => {
    const { h, old } = await seedAlice(100);
    const outcome = await h.rotate({ settings: { ...defaultSettings, oldKey: 'deactivate' } });
    expect(outcome).toMatchObject({ kind: 'rotated' });
    const fresh = await keyInFile(h);
    expect(h.keysOf('alice')).toEqual([
      { accessKeyId: old.accessKeyId, secretAccessKey: old.secretAccessKey, status: 'Inactive' },
      { ...fresh, status: 'Active' },
    ]);
    expect(actions(h).at(-1)).toBe('UpdateAccessKey');
  });

  it('writes the new key to every profile that held the old one, in the credentials file and the AWS config file', async () => {
    const h = createUnitHarness();
    const old = h.seedUser('alice', 100);
    await h.writeCredentials(handKept(old, `\n${profileSection('copy', old)}`));
    const config = (key: Key) => `[default]\nregion = eu-west-1\n\n[profile legacy]\naws_access_key_id = ${key.accessKeyId}\naws_secret_access_key = ${key.secretAccessKey}\noutput = json\n`;
    await h.writeAwsConfig(config(old));
    const outcome = await h.rotate();
    expect(outcome).toMatchObject({
      kind: 'rotated',
      holders: [
        { file: 'credentials', profile: 'default' },
        { file: 'credentials', profile: 'copy' },
        { file: 'config', profile: 'legacy' },
      ],
    });
    const fresh = await keyInFile(h);
    expect(await keyInFile(h, 'copy')).toEqual(fresh);
    expect(await h.readAwsConfig()).toBe(config(fresh));
    await expectSettled(h);
  });

  describe('a user with two keys', () => {
    it('deletes an inactive second key first, and says so', async () => {
      const { h } = await seedAlice(100);
      const spare = h.seedKey('alice', 300, { status: 'Inactive' });
      const outcome = await h.rotate();
      expect(outcome).toMatchObject({ kind: 'rotated', notes: [`Deleted the inactive key AKIA…${spare.accessKeyId.slice(-4)} of user alice to make room for the new key.`] });
      expectPlain(outcome);
      expect(h.keysOf('alice').map((key) => key.accessKeyId)).not.toContain(spare.accessKeyId);
      await expectSettled(h);
    });

    it('never deletes an active second key: stops before creating anything and names it', async () => {
      const { h, old, original } = await seedAlice(100);
      const spare = h.seedKey('alice', 5);
      const outcome = await h.rotate();
      expect(outcome).toMatchObject({ kind: 'failed', error: { code: 'second-active-key' } });
      expectPlain(outcome);
      expect(message(outcome)).toContain(`User alice already has a second active key ${spare.accessKeyId}`);
      expect(message(outcome)).toContain(`--access-key-id ${spare.accessKeyId} --status Inactive`);
      expect(h.keysOf('alice').map((key) => key.accessKeyId)).toEqual([old.accessKeyId, spare.accessKeyId]);
      expect(callsOf(h, 'CreateAccessKey')).toEqual([]);
      expect(callsOf(h, 'DeleteAccessKey')).toEqual([]);
      expect(await h.readCredentials()).toBe(original);
    });
  });

  it('lets a listener that throws at every step change nothing', async () => {
    const { h } = await seedAlice(100);
    let calls = 0;
    const outcome = await h.rotate({
      onStep: () => {
        calls++;
        throw new Error('a client that went away');
      },
    });
    expect(outcome).toMatchObject({ kind: 'rotated' });
    expect(calls).toBeGreaterThan(5);
    await expectSettled(h);
  });

  it('reports each step with its data, and key ids masked in the text', async () => {
    const { h, old } = await seedAlice(100);
    const steps: [Step, string, StepData][] = [];
    await h.rotate({ onStep: (step, text, data) => steps.push([step, text, data]) });
    expect([...new Set(steps.map(([step]) => step))]).toEqual(['identify', 'assess', 'create', 'verify', 'write', 'retire']);
    for (const [, text] of steps) expect(text).not.toContain(old.accessKeyId);
    expect(steps[0]).toEqual(['identify', `Checking which IAM user the key AKIA…${old.accessKeyId.slice(-4)} in profile default belongs to.`, { keyId: old.accessKeyId }]);
  });
});

describe('another process', () => {
  it('leaves a key whose lock a live keyup process holds to that process: busy, nothing changed', async () => {
    const { h, old, original } = await seedAlice(100);
    const other = await h.holdLockAsOtherProcess(old.accessKeyId, 'default', 4_242);
    const outcome = await h.rotate();
    expect(outcome).toEqual({ kind: 'busy', profile: 'default', pid: 4_242, rotating: 'default', since: START.toISOString(), notes: [] });
    expectPlain(outcome);
    expect(callsOf(h, 'CreateAccessKey')).toEqual([]);
    expect(await h.readCredentials()).toBe(original);
    await other.release();
    expect(await h.rotate()).toMatchObject({ kind: 'rotated' });
  });

  it('takes over the lock a killed keyup process left behind', async () => {
    const { h, old } = await seedAlice(100);
    await h.holdLockAsOtherProcess(old.accessKeyId, 'default', 5_555);
    h.alive.delete(5_555);
    expect(await h.rotate()).toMatchObject({ kind: 'rotated' });
    await expectSettled(h);
  });
});

describe('errors a person can meet', () => {
  it('names the refused action and the policy that grants it', async () => {
    const h = createUnitHarness();
    const old = h.seedUser('alice', 100, { deniedActions: ['iam:CreateAccessKey'] });
    await h.writeCredentials(handKept(old));
    const outcome = await h.rotate();
    expect(outcome).toMatchObject({ kind: 'failed', error: { code: 'access-denied', message: 'IAM refused iam:CreateAccessKey on user alice for profile default: its identity is not allowed to call it.' } });
    expect(outcome.kind === 'failed' && outcome.error.hint).toContain('"iam:CreateAccessKey"');
    expectPlain(outcome);
    expect(h.keysOf('alice').map((key) => key.accessKeyId)).toEqual([old.accessKeyId]);
    expect([...h.stateFiles().keys()].filter((path) => path.includes('/journal/'))).toEqual([]);
    expect(await h.history()).toMatchObject([{ profile: 'default', oldKeyId: old.accessKeyId, newKeyId: null, ok: false }]);
  });

  it('says the key in the profile is not valid when STS refuses it', async () => {
    const h = createUnitHarness();
    h.fake.control.createUser({ userName: 'alice' });
    await h.writeCredentials(handKept({ accessKeyId: 'AKIAUNKNOWNUNKNOWN01', secretAccessKey: 'whatever' }));
    const outcome = await h.rotate();
    expect(outcome).toMatchObject({ kind: 'failed', error: { code: 'key-invalid', message: 'The key AKIA…WN01 in profile default is not valid: AWS does not accept it.' } });
  });

  it('says why a profile whose credentials the AWS config decides is not rotated', async () => {
    const h = createUnitHarness();
    await h.writeCredentials('[default]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = s\n');
    await h.writeAwsConfig('[default]\nrole_arn = arn:aws:iam::123456789012:role/admin\nsource_profile = base\n');
    const outcome = await h.rotate();
    expect(outcome).toMatchObject({
      kind: 'failed',
      error: {
        code: 'profile-unusable',
        message: 'Profile default gets its credentials another way (a role, SSO, credential_process, or keys in the AWS config file), and keyup rotates only long-term access keys in the credentials file.',
      },
    });
    expect(actions(h)).toEqual([]);
  });

  it('refuses a profile that holds temporary credentials', async () => {
    const h = createUnitHarness();
    await h.writeCredentials('[default]\naws_access_key_id = ASIAXXXXXXXXXXXXXXXX\naws_secret_access_key = s\naws_session_token = t\n');
    const outcome = await h.rotate();
    expect(outcome).toMatchObject({ kind: 'failed', error: { message: 'Profile default holds temporary credentials, and keyup rotates only long-term access keys in the credentials file.' } });
  });

  it('shows nothing of a value that is not shaped like a key id (id and secret swapped, hole 12)', async () => {
    const h = createUnitHarness();
    const key = h.seedUser('alice', 100);
    await h.writeCredentials(profileSection('default', { accessKeyId: key.secretAccessKey, secretAccessKey: key.accessKeyId }));
    const outcome = await h.rotate();
    expect(outcome.kind).toBe('failed');
    for (const piece of [key.secretAccessKey.slice(0, 4), key.secretAccessKey.slice(-4)]) {
      expect(message(outcome)).not.toContain(piece);
      expect(JSON.stringify(h.logs)).not.toContain(key.secretAccessKey.slice(-4));
    }
  });
});

describe('another user’s key through manage_with', () => {
  async function seedBot(admin: { userName: string; admin?: boolean; deniedActions?: string[] }) {
    const h = createUnitHarness();
    const adminKey = h.seedUser(admin.userName, 10, admin);
    const bot = h.seedUser('ci-bot', 100, { path: '/bots/' });
    await h.writeCredentials(`${profileSection(admin.userName, adminKey)}\n${profileSection('ci-bot', bot)}`);
    return { h, adminKey, bot };
  }

  it('makes the IAM calls as the admin, names the bot user, and verifies the new key with itself', async () => {
    const { h, adminKey } = await seedBot({ userName: 'admin', admin: true });
    const outcome = await h.rotate({ profile: 'ci-bot', settings: { ...defaultSettings, manageWith: 'admin' } });
    expect(outcome).toMatchObject({ kind: 'rotated', user: 'ci-bot', holders: [{ file: 'credentials', profile: 'ci-bot' }] });
    const fresh = await keyInFile(h, 'ci-bot');
    for (const action of ['ListAccessKeys', 'CreateAccessKey', 'DeleteAccessKey'] as const) {
      expect(callsOf(h, action).map((call) => call.accessKeyId)).toEqual([adminKey.accessKeyId]);
    }
    expect(callsOf(h, 'GetCallerIdentity').filter((call) => call.accessKeyId === fresh.accessKeyId)).toHaveLength(3);
    expect(h.keysOf('admin').map((key) => key.accessKeyId)).toEqual([adminKey.accessKeyId]);
    await expectSettled(h, 'ci-bot', 'ci-bot');
  });

  it('gives a manage_with identity that IAM refuses a policy on the managed user, not on itself', async () => {
    const { h } = await seedBot({ userName: 'helpdesk', deniedActions: ['iam:ListAccessKeys'] });
    const outcome = await h.rotate({ profile: 'ci-bot', settings: { ...defaultSettings, manageWith: 'helpdesk' } });
    expect(outcome).toMatchObject({ kind: 'failed', error: { message: 'IAM refused iam:ListAccessKeys on user ci-bot for profile ci-bot: its identity is not allowed to call it.' } });
    expect(outcome.kind === 'failed' && outcome.error.hint).toContain(`"Resource":"arn:aws:iam::${h.fake.control.accountId}:user/bots/ci-bot"`);
  });
});

describe('temporary credentials in the file', () => {
  /** bob's session, in profile work-session, as aws-mfa writes it (with its expiry) or not. */
  async function addSession(h: UnitHarness, { expiry = true, token }: { expiry?: boolean; token?: string } = {}) {
    const bob = h.seedUser('bob', 1);
    const session = h.fake.control.createSession({ accessKeyId: bob.accessKeyId, durationSeconds: 900 });
    const lines = [`[work-session]`, `aws_access_key_id = ${session.accessKeyId}`, `aws_secret_access_key = ${session.secretAccessKey}`, `aws_session_token = ${token ?? session.sessionToken}`];
    if (expiry) lines.push(`aws_expiration = ${session.expiration.toISOString()}`);
    await h.writeCredentials(`${await h.readCredentials()}\n${lines.join('\n')}\n`);
    return session;
  }

  it('defers while a session STS still accepts is in the file, and says which and until when', async () => {
    const { h } = await seedAlice(100);
    const session = await addSession(h);
    const outcome = await h.rotate();
    expect(outcome).toMatchObject({ kind: 'deferred', keyId: expect.any(String), ageState: 'due', deferral: { reason: 'active-session', profile: 'work-session', until: session.expiration.toISOString() } });
    expectPlain(outcome);
    expect(callsOf(h, 'CreateAccessKey')).toEqual([]);
  });

  it('defers for a session the file gives no expiry for, until it ends', async () => {
    const { h } = await seedAlice(100);
    await addSession(h, { expiry: false });
    expect(await h.rotate()).toMatchObject({ kind: 'deferred', deferral: { reason: 'active-session', profile: 'work-session', until: null } });
  });

  it('does not defer for a session that has ended, nor for a token STS refuses', async () => {
    const { h } = await seedAlice(100);
    const session = await addSession(h, { expiry: false });
    h.fake.control.expireSession(session.accessKeyId);
    expect(await h.rotate()).toMatchObject({ kind: 'rotated' });

    const second = await seedAlice(100);
    await addSession(second.h, { expiry: false, token: 'not-the-token' });
    expect(await second.h.rotate()).toMatchObject({ kind: 'rotated' });
  });

  it('skips a session whose expiry in the file has passed without asking STS', async () => {
    const { h } = await seedAlice(100);
    await addSession(h);
    h.clock.advance(16 * MINUTE_MS);
    expect(await h.rotate()).toMatchObject({ kind: 'rotated' });
    expect(callsOf(h, 'GetCallerIdentity').filter((call) => call.accessKeyId.startsWith('ASIA'))).toEqual([]);
  });

  it('defers, and says so, when STS cannot be asked about a session', async () => {
    const { h } = await seedAlice(100);
    await addSession(h, { expiry: false });
    const outcome = await h.rotate({
      // After identify: from then on STS cannot be reached.
      onStep: (step) => step === 'assess' && void h.fake.control.injectFault({ kind: 'connection-refused', action: 'GetCallerIdentity', count: 'always' }),
    });
    expect(outcome).toMatchObject({ kind: 'deferred', deferral: { reason: 'sts-unreachable', profile: 'work-session', until: null } });
    expectPlain(outcome);
    expect(h.logs.some((line) => line.msg === 'STS could not be asked about a session.')).toBe(true);
  });

  it('rotates anyway with --force, and with defer_on_sessions = false', async () => {
    const { h } = await seedAlice(100);
    await addSession(h);
    expect(await h.rotate({ ignoreSessions: true })).toMatchObject({ kind: 'rotated' });

    const second = await seedAlice(100);
    await addSession(second.h);
    expect(await second.h.rotate({ settings: { ...defaultSettings, deferOnSessions: false } })).toMatchObject({ kind: 'rotated' });
  });
});

describe('IAM eventual consistency, on the fake clock', () => {
  it('waits for a new key STS refuses for 8 seconds, without waiting in real time', async () => {
    const { h } = await seedAlice(100, { activationDelayMs: 8 * SECOND_MS });
    const outcomes: unknown[] = [];
    const { value: outcome, realMs } = await timed(() => h.rotate({ onStep: (step, _text, data) => step === 'verify' && data.outcome !== undefined && outcomes.push(data.outcome) }));
    expect(outcome).toMatchObject({ kind: 'rotated' });
    expect(callsOf(h, 'GetCallerIdentity').filter((call) => call.errorCode === 'InvalidClientTokenId').length).toBeGreaterThan(0);
    expect(outcomes.slice(1, 3)).toEqual(['refused', 'refused']);
    expect(outcomes.slice(-3)).toEqual(['accepted', 'accepted', 'accepted']);
    expect(h.clock.elapsedMs()).toBeGreaterThanOrEqual(8 * SECOND_MS);
    expect(realMs).toBeLessThan(1_000);
    await expectSettled(h);
  });

  it('takes the new key back when AWS never accepts it, and keeps the old one in service', async () => {
    const { h, old, original } = await seedAlice(100, { activationDelayMs: 10 * MINUTE_MS });
    const { value: outcome, realMs } = await timed(() => h.rotate());
    expect(outcome).toMatchObject({ kind: 'failed', error: { code: 'key-not-verified', message: 'The new key was not accepted by AWS within 60 seconds.' } });
    expectPlain(outcome);
    expect(outcome.notes).toEqual([expect.stringMatching(/^Deleted the new key AKIA…\w{4} again; the old key AKIA…\w{4} stays in use\.$/)]);
    expect(h.keysOf('alice').map((key) => key.accessKeyId)).toEqual([old.accessKeyId]);
    expect(await h.readCredentials()).toBe(original);
    expect(await h.journal.listProfiles()).toEqual([]);
    // It tried for (nearly) the whole bound, by the fake clock: the last pause would have overrun it.
    expect(h.clock.elapsedMs()).toBeGreaterThan(50 * SECOND_MS);
    expect(realMs).toBeLessThan(1_000);
  });

  it('does not start counting again when a confirmation is throttled', async () => {
    const { h } = await seedAlice(100);
    const attempts: [unknown, unknown][] = [];
    const outcome = await h.rotate({
      onStep: (step, _text, data) => {
        if (step !== 'verify' || data.outcome === undefined || data.outcome === null) return;
        attempts.push([data.outcome, data.streak]);
        // Right after the first success, STS throttles the next confirmation.
        if (attempts.length === 1) h.fake.control.injectFault({ kind: 'throttle', action: 'GetCallerIdentity' });
      },
    });
    expect(outcome).toMatchObject({ kind: 'rotated' });
    expect(attempts).toEqual([
      ['accepted', 1],
      ['unanswered', 1],
      ['accepted', 2],
      ['accepted', 3],
    ]);
    // identify, then four confirmations: the throttled one did not cost three more.
    expect(callsOf(h, 'GetCallerIdentity')).toHaveLength(5);
  });

  it('waits out IAM refusing the new key when it retires the old one', async () => {
    const { h, old } = await seedAlice(100, { activationDelayMs: { sts: 0, iam: 10 * SECOND_MS } });
    expect(await h.rotate()).toMatchObject({ kind: 'rotated' });
    expect(callsOf(h, 'DeleteAccessKey').filter((call) => call.errorCode === 'InvalidClientTokenId').length).toBeGreaterThan(0);
    expect(h.keysOf('alice').map((key) => key.accessKeyId)).not.toContain(old.accessKeyId);
    await expectSettled(h);
  });

  it('when IAM is slow to accept the new key, leaves the old key for the next check without telling the person to replace their key (hole 15)', async () => {
    const { h, old } = await seedAlice(100, { activationDelayMs: { sts: 0, iam: 10 * MINUTE_MS } });
    const outcome = await h.rotate();
    expect(outcome).toMatchObject({ kind: 'failed', error: { code: 'retire-pending' } });
    expect(message(outcome)).not.toMatch(/Put a working access key/);
    expect(message(outcome)).toMatch(/next check/);
    const fresh = await keyInFile(h);
    expect(h.keysOf('alice').map((key) => key.accessKeyId)).toEqual([old.accessKeyId, fresh.accessKeyId]);
    // The journal stays at `created`; the file holding the new key says it was written (see JournalStep).
    expect(await h.journal.read('default')).toMatchObject({ step: 'created' });
    // Ten minutes later IAM knows the new key, and the next check retires the old one.
    h.clock.advance(10 * MINUTE_MS);
    expect(await h.rotate()).toMatchObject({ kind: 'rotated', newKeyId: fresh.accessKeyId });
    await expectSettled(h);
  });
});

describe('faults', () => {
  it('rides out a throttling storm on every action', async () => {
    const { h } = await seedAlice(100);
    for (const action of ['GetCallerIdentity', 'ListAccessKeys', 'CreateAccessKey', 'DeleteAccessKey'] as const) h.fake.control.injectFault({ kind: 'throttle', action, count: 3 });
    h.fake.control.injectFault({ kind: 'service-unavailable', action: 'CreateAccessKey' });
    expect(await h.rotate()).toMatchObject({ kind: 'rotated' });
    expect(h.fake.control.getCallLog().filter((call) => call.errorCode === 'Throttling')).toHaveLength(12);
    await expectSettled(h);
  });

  it.each([
    ['in step with this machine', 0],
    ['10 minutes behind this machine', -10 * MINUTE_MS],
    ['10 minutes ahead of this machine', 10 * MINUTE_MS],
  ])('finds and deletes the key of a CreateAccessKey whose answer was lost, with IAM’s clock %s, then makes another', async (_clock, skewMs) => {
    const { h, old } = await seedAlice(100, { skewMs });
    h.fake.control.injectFault({ kind: 'commit-then-lose', action: 'CreateAccessKey' });
    const deleted: unknown[] = [];
    const outcome = await h.rotate({ onStep: (step, _text, data) => step === 'recover' && deleted.push(data.deletedKeyId) });
    expect(outcome).toMatchObject({ kind: 'rotated', notes: [expect.stringMatching(/^Deleted the key AKIA…\w{4} \(created [^)]+\) that an interrupted CreateAccessKey made for user alice; nobody had its secret\.$/)] });
    expect(callsOf(h, 'CreateAccessKey')).toHaveLength(2);
    const fresh = await keyInFile(h);
    expect(deleted).toHaveLength(1);
    expect([old.accessKeyId, fresh.accessKeyId]).not.toContain(deleted[0]);
    expect(h.keysOf('alice').map((key) => key.accessKeyId)).toEqual([fresh.accessKeyId]);
    await expectSettled(h);
  });

  it('counts a lost answer to the delete of the old key as done', async () => {
    const { h, old } = await seedAlice(100);
    h.fake.control.injectFault({ kind: 'commit-then-lose', action: 'DeleteAccessKey' });
    expect(await h.rotate()).toMatchObject({ kind: 'rotated' });
    expect(callsOf(h, 'DeleteAccessKey').map((call) => call.errorCode)).toEqual(['ECONNRESET', 'NoSuchEntity']);
    expect(h.keysOf('alice').map((key) => key.accessKeyId)).not.toContain(old.accessKeyId);
  });

  it.each(['GetCallerIdentity', 'ListAccessKeys', 'CreateAccessKey', 'DeleteAccessKey'] as const)('ends a hung %s at once when the run is aborted', async (action) => {
    const { h } = await seedAlice(100);
    h.fake.control.injectFault({ kind: 'hang', action });
    const stop = new AbortController();
    const started = performance.now();
    const run = h.rotate({ signal: stop.signal });
    await waitFor(`a hung ${action}`, () => h.fake.control.hangingCalls() === 1);
    stop.abort();
    const outcome = await within(run);
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(outcome).toMatchObject({ kind: 'failed', error: { code: 'aborted', message: 'The rotation of profile default was stopped before it ended.' } });
    expectPlain(outcome);
    expect(h.fake.control.hangingCalls()).toBe(0);
    expect(callsOf(h, action).at(-1)).toMatchObject({ errorCode: 'AbortError', httpStatus: null });
    expect([...h.stateFiles().keys()].filter((path) => path.endsWith('.lock'))).toEqual([]);
  });

  it('never deletes a key the person made a minute after a hung CreateAccessKey was aborted (hole 4)', async () => {
    const { h, old } = await seedAlice(100);
    h.fake.control.injectFault({ kind: 'hang', action: 'CreateAccessKey' });
    const stop = new AbortController();
    const run = h.rotate({ signal: stop.signal });
    await waitFor('a hung CreateAccessKey', () => h.fake.control.hangingCalls() === 1);
    stop.abort();
    expect(await within(run)).toMatchObject({ kind: 'failed', error: { code: 'aborted' } });
    expect(await h.journal.read('default')).toMatchObject({ step: 'creating', createWindow: expect.anything() });

    h.clock.advance(MINUTE_MS);
    const ci = h.fake.control.createAccessKey({ userName: 'alice' });
    const outcome = await h.rotate();
    expect(outcome).toMatchObject({ kind: 'failed', error: { code: 'second-active-key' } });
    expect(message(outcome)).toContain(`already has a second active key ${ci.accessKeyId}`);
    expect(outcome.notes.join('\n')).not.toMatch(/Deleted/);
    expect(h.keysOf('alice').map((key) => key.accessKeyId)).toEqual([old.accessKeyId, ci.accessKeyId]);
    expect(callsOf(h, 'DeleteAccessKey')).toEqual([]);
  });

  describe('stopped (aborted) at each step, then run again', () => {
    const steps: Step[] = ['identify', 'assess', 'make-room', 'create', 'verify', 'write', 'retire'];
    it.each(steps)('at %s: the next run leaves one working key, no orphan, no journal but the safety copy', async (step) => {
      const { h } = await seedAlice(100);
      h.seedKey('alice', 300, { status: 'Inactive' });
      const stop = new AbortController();
      const first = await h.rotate({ signal: stop.signal, onStep: (at) => at === step && stop.abort() });
      expectPlain(first);
      // The retire step is told once the old key is gone: nothing is left to stop.
      expect(first.kind === 'failed' ? first.error.code : first.kind).toBe(step === 'retire' ? 'rotated' : 'aborted');
      const again = await h.rotate({ ignoreAge: first.kind !== 'rotated' });
      expect(again.kind === 'rotated' || again.kind === 'current', JSON.stringify(again)).toBe(true);
      await expectSettled(h);
    });

    it('at create, while the call is in flight and IAM has made the key: the next run deletes that key and rotates', async () => {
      const { h } = await seedAlice(100);
      h.fake.control.injectFault({ kind: 'hang-after-commit', action: 'CreateAccessKey' });
      const stop = new AbortController();
      const run = h.rotate({ signal: stop.signal });
      await waitFor('a committed CreateAccessKey', () => h.fake.control.hangingCalls() === 1);
      expect(h.keysOf('alice')).toHaveLength(2);
      stop.abort();
      expect(await within(run)).toMatchObject({ kind: 'failed', error: { code: 'aborted' } });
      const again = await h.rotate();
      expect(again).toMatchObject({ kind: 'rotated', notes: [expect.stringContaining('that an interrupted CreateAccessKey made for user alice')] });
      await expectSettled(h);
    });
  });
});

describe('issue 7 holes, on the fake', () => {
  it('hole 1: a stale copy saved right after keyup’s rename is noticed and the new key applied again before the old one goes', async () => {
    let original = '';
    let clobbered = false;
    const h = createUnitHarness({
      wrapCredentials: (file) => ({
        ...file,
        async replaceKey(oldKeyId, next) {
          const changed = await file.replaceKey(oldKeyId, next);
          // An editor that read the file just before keyup's rename saves its copy just after.
          if (!clobbered) {
            clobbered = true;
            await h.writeCredentials(original);
          }
          return changed;
        },
      }),
    });
    const old = h.seedUser('alice', 100);
    await h.writeCredentials(handKept(old));
    original = await h.readCredentials();
    const outcome = await h.rotate();
    expect(outcome).toMatchObject({ kind: 'rotated', notes: [expect.stringContaining("Another program wrote the old key back into profile default after keyup's write")] });
    expect(clobbered).toBe(true);
    await expectSettled(h);
  });

  it('hole 1: the retired key written back after the rotation is replaced by the new key at the next check, and the safety copy goes after a day', async () => {
    const { h, old, original } = await seedAlice(100);
    expect(await h.rotate()).toMatchObject({ kind: 'rotated' });
    const rotated = await h.readCredentials();
    // A dotfile sync restores yesterday's copy a minute after the rotation finished.
    h.clock.advance(MINUTE_MS);
    await h.writeCredentials(original);
    const second = await h.rotate();
    expect(second).toMatchObject({ kind: 'current', notes: [expect.stringMatching(/^Put the new key AKIA…\w{4} back into profile default/)] });
    expect(await h.readCredentials()).toBe(rotated);
    expect(h.keysOf('alice').map((key) => key.accessKeyId)).not.toContain(old.accessKeyId);
    expect(await h.journal.listProfiles()).toEqual(['default']);
    h.clock.advance(DAY_MS + 2 * 3_600_000);
    expect(await h.rotate()).toMatchObject({ kind: 'current' });
    expect(await h.journal.listProfiles()).toEqual([]);
    await expectSettled(h);
  });

  it('hole 2: a journal at "written" with the old key back in the file applies the new key again instead of retiring into nothing', async () => {
    const { h, old } = await seedAlice(100);
    const fresh = h.fake.control.createAccessKey({ userName: 'alice' });
    await h.journal.write(journalEntry(h, old, fresh, 'written'));
    const outcome = await h.rotate();
    expect(outcome).toMatchObject({ kind: 'rotated', newKeyId: fresh.accessKeyId, holders: [{ file: 'credentials', profile: 'default' }] });
    expect(await keyInFile(h)).toEqual({ accessKeyId: fresh.accessKeyId, secretAccessKey: fresh.secretAccessKey });
    await expectSettled(h);
  });

  it('hole 10: finds out before CreateAccessKey that the folder refuses new files, and creates nothing', async () => {
    const { h, old } = await seedAlice(100, { wrapFs: failing((op, path) => op === 'open-new' && dirname(path) === dirname(CREDENTIALS) && 'EACCES') });
    expect(await h.rotate()).toMatchObject({ kind: 'failed' });
    expect(callsOf(h, 'CreateAccessKey')).toEqual([]);
    expect(h.keysOf('alice').map((key) => key.accessKeyId)).toEqual([old.accessKeyId]);
  });

  it('hole 10: deletes the new key again when the write still fails after it was made (a bind-mounted file: EBUSY)', async () => {
    const { h, old, original } = await seedAlice(100, { wrapFs: failing((op, path) => op === 'rename' && path === CREDENTIALS && 'EBUSY') });
    const outcome = await h.rotate();
    expect(outcome).toMatchObject({ kind: 'failed', notes: [expect.stringMatching(/^Deleted the new key/)] });
    expect(message(outcome)).toContain('keyup deleted the new key again');
    expect(h.keysOf('alice').map((key) => key.accessKeyId)).toEqual([old.accessKeyId]);
    expect(await h.journal.listProfiles()).toEqual([]);
    expect(await h.readCredentials()).toBe(original);
    await expectSettled(h);
  });

  it('hole 15: after an undo whose DeleteAccessKey answer was lost, the next run sees the new key is gone and rotates without verifying it', async () => {
    const { h, old } = await seedAlice(100);
    const gone = h.fake.control.createAccessKey({ userName: 'alice' });
    await h.journal.write(journalEntry(h, old, gone, 'created'));
    // The undo deleted it, but its answer never came back: the journal still says `created`.
    await h.fake.keyApi.deleteAccessKey({ credentials: old }, gone.accessKeyId);
    h.fake.control.clearCallLog();
    expect(await h.rotate()).toMatchObject({ kind: 'rotated' });
    expect(h.fake.control.getCallLog().filter((call) => call.accessKeyId === gone.accessKeyId)).toEqual([]);
    await expectSettled(h);
  });

  it('hole 15: rotates a profile whose name is 300 characters long', async () => {
    const h = createUnitHarness();
    const key = h.seedUser('alice', 100);
    const name = `p${'x'.repeat(299)}`;
    await h.writeCredentials(profileSection(name, key));
    expect(await h.rotate({ profile: name })).toMatchObject({ kind: 'rotated', profile: name });
    expect(await h.journal.listProfiles()).toEqual([name]);
  });

  it('hole 15: says the disk is full when the journal cannot be written (ENOSPC), not "an unexpected error"', async () => {
    const { h, old } = await seedAlice(100, { wrapFs: failing((op, path) => op === 'open-new' && path.includes('/journal/') && 'ENOSPC') });
    const outcome = await h.rotate();
    expect(outcome).toMatchObject({ kind: 'failed', error: { code: 'state' } });
    expect(message(outcome)).not.toMatch(/unexpected/i);
    expect(message(outcome)).toMatch(/no space|full/i);
    expect(message(outcome)).toContain(`${h.paths.stateDir}/journal`);
    expect(callsOf(h, 'CreateAccessKey')).toEqual([]);
    expect(h.keysOf('alice').map((key) => key.accessKeyId)).toEqual([old.accessKeyId]);
  });
});

describe('recovery of a rotation that stopped at "verified"', () => {
  /** keyup died between renaming the new file into place (or not) and recording `written`; its lock stays behind. */
  async function crashedAtVerified({ fileRenamed }: { fileRenamed: boolean }) {
    const h = createUnitHarness();
    const old = h.seedUser('alice', 100);
    const fresh = h.fake.control.createAccessKey({ userName: 'alice' });
    await h.writeCredentials(handKept(fileRenamed ? fresh : old));
    await h.journal.write(journalEntry(h, old, fresh, 'verified'));
    await h.holdLockAsOtherProcess(old.accessKeyId, 'default', 5_555);
    h.alive.delete(5_555);
    return { h, old, fresh };
  }

  async function expectFinished(h: UnitHarness, fresh: FakeSeededKey) {
    expect(h.keysOf('alice').map((key) => key.accessKeyId)).toEqual([fresh.accessKeyId]);
    expect(await h.journal.read('default')).toMatchObject({ step: 'retired', newKey: { accessKeyId: fresh.accessKeyId } });
    await expectSettled(h);
    expect(await h.rotate()).toMatchObject({ kind: 'current', keyId: fresh.accessKeyId });
  }

  it('after the rename: does not write the file again and retires the old key', async () => {
    const { h, old, fresh } = await crashedAtVerified({ fileRenamed: true });
    const before = await h.rawFs.promises.stat(CREDENTIALS);
    const outcomes = await h.rotator.recoverAll();
    expect(outcomes).toEqual([expect.objectContaining({ kind: 'rotated', oldKeyId: old.accessKeyId, newKeyId: fresh.accessKeyId, holders: [{ file: 'credentials', profile: 'default' }] })]);
    expectPlain(outcomes);
    // No second rename, and no backup (one is taken before each rewrite).
    expect((await h.rawFs.promises.stat(CREDENTIALS)).mtimeMs).toBe(before.mtimeMs);
    expect(await h.readCredentials()).toBe(handKept(fresh));
    expect([...h.stateFiles().keys()].filter((path) => path.includes('/backups/'))).toEqual([]);
    // The old key was deleted with the new key; nothing was created or verified again.
    expect(h.fake.control.getCallLog().map((call) => `${call.action} ${call.accessKeyId}`)).toEqual([`DeleteAccessKey ${fresh.accessKeyId}`]);
    await expectFinished(h, fresh);
  });

  it('before the rename: writes the file, then retires the old key', async () => {
    const { h, fresh } = await crashedAtVerified({ fileRenamed: false });
    expect(await h.rotator.recoverAll()).toEqual([expect.objectContaining({ kind: 'rotated', newKeyId: fresh.accessKeyId, holders: [{ file: 'credentials', profile: 'default' }] })]);
    expect(await h.readCredentials()).toBe(handKept(fresh));
    await expectFinished(h, fresh);
  });

  it('is busy, not resumed, while the process that wrote the journal still runs', async () => {
    const h = createUnitHarness();
    const old = h.seedUser('alice', 100);
    const fresh = h.fake.control.createAccessKey({ userName: 'alice' });
    await h.writeCredentials(handKept(old));
    await h.journal.write(journalEntry(h, old, fresh, 'verified'));
    await h.holdLockAsOtherProcess(old.accessKeyId, 'default', 6_666);
    expect(await h.rotate()).toMatchObject({ kind: 'busy', pid: 6_666 });
    expect(h.fake.control.getCallLog()).toEqual([]);
  });
});

// Since keyup stopped writing `verified` and `written` (issue 8's CPU budget; see JournalStep), a
// rotation that died after its rewrite leaves its journal at `created`: the file must say the rest.
describe('recovery of a rotation whose journal says "created" and whose file holds the new key', () => {
  /** keyup died after renaming the new file into place, before `retired`; its lock stays behind. */
  async function crashedAfterTheWrite() {
    const h = createUnitHarness();
    const old = h.seedUser('alice', 100);
    const fresh = h.fake.control.createAccessKey({ userName: 'alice' });
    await h.writeCredentials(handKept(fresh));
    await h.journal.write(journalEntry(h, old, fresh, 'created'));
    await h.holdLockAsOtherProcess(old.accessKeyId, 'default', 5_555);
    h.alive.delete(5_555);
    return { h, old, fresh };
  }

  it('neither verifies the key again nor writes the file: it retires the old key', async () => {
    const { h, old, fresh } = await crashedAfterTheWrite();
    const before = await h.rawFs.promises.stat(CREDENTIALS);
    expect(await h.rotator.recoverAll()).toEqual([expect.objectContaining({ kind: 'rotated', oldKeyId: old.accessKeyId, newKeyId: fresh.accessKeyId })]);
    expect((await h.rawFs.promises.stat(CREDENTIALS)).mtimeMs).toBe(before.mtimeMs);
    expect(h.fake.control.getCallLog().map((call) => `${call.action} ${call.accessKeyId}`)).toEqual([`DeleteAccessKey ${fresh.accessKeyId}`]);
    expect(await h.journal.read('default')).toMatchObject({ step: 'retired' });
    await expectSettled(h);
  });

  it('never deletes the new key the file holds, even when STS cannot be asked about it', async () => {
    const { h, fresh } = await crashedAfterTheWrite();
    h.fake.control.injectFault({ kind: 'service-unavailable', action: 'GetCallerIdentity', count: 'always' });
    expect(await h.rotate()).toMatchObject({ kind: 'rotated', newKeyId: fresh.accessKeyId });
    expect(h.keysOf('alice')).toEqual([{ ...fresh, status: 'Active' }].map(({ accessKeyId, secretAccessKey, status }) => ({ accessKeyId, secretAccessKey, status })));
    expect(await keyInFile(h)).toEqual({ accessKeyId: fresh.accessKeyId, secretAccessKey: fresh.secretAccessKey });
  });

  it('applies the new key again where another program wrote the old one back', async () => {
    const { h, old, fresh } = await crashedAfterTheWrite();
    await h.writeAwsConfig(`[profile legacy]\naws_access_key_id = ${old.accessKeyId}\naws_secret_access_key = ${old.secretAccessKey}\n`);
    expect(await h.rotate()).toMatchObject({ kind: 'rotated', newKeyId: fresh.accessKeyId });
    expect(await h.readAwsConfig()).toContain(fresh.accessKeyId);
    await expectSettled(h);
  });
});

describe('recovery of a rotation that stopped at "creating"', () => {
  /** keyup died while CreateAccessKey was in flight after `rotate now` (the key is not due by age); IAM made a key nobody knows. */
  async function crashedWhileCreating({ evidence = true }: { evidence?: boolean } = {}) {
    const h = createUnitHarness();
    const old = h.seedUser('alice', 10);
    await h.writeCredentials(handKept(old));
    const startedAt = h.fake.control.iamNow();
    const { accountId } = h.fake.control;
    await h.journal.write({
      version: evidence ? 2 : 1,
      profile: 'default',
      step: 'creating',
      startedAt: startedAt.toISOString(),
      force: false,
      user: { name: 'alice', arn: `arn:aws:iam::${accountId}:user/alice`, account: accountId },
      oldKey: 'delete',
      oldKeyId: old.accessKeyId,
      ...(evidence
        ? { knownKeyIds: [old.accessKeyId], createWindow: { from: new Date(startedAt.getTime() - 5_000).toISOString(), to: new Date(startedAt.getTime() + 30_000).toISOString() } }
        : {}),
    });
    const orphan = h.fake.control.createAccessKey({ userName: 'alice', createDate: new Date(startedAt.getTime() + 1_000) });
    h.clock.advance(MINUTE_MS);
    return { h, old, orphan };
  }

  it('deletes the key nobody knows and rotates again, though the old key is not due by age', async () => {
    const { h, old, orphan } = await crashedWhileCreating();
    const outcome = await h.rotate();
    expect(outcome).toMatchObject({ kind: 'rotated', oldKeyId: old.accessKeyId, notes: [expect.stringContaining(`AKIA…${orphan.accessKeyId.slice(-4)}`)] });
    expect(h.keysOf('alice').map((key) => key.accessKeyId)).not.toContain(orphan.accessKeyId);
    await expectSettled(h);
  });

  it('leaves a profile the caller rotates next to rotate(), which can start it again', async () => {
    const { h } = await crashedWhileCreating();
    expect(await h.rotator.recoverAll({ except: new Set(['default']) })).toEqual([]);
    expect(await h.journal.listProfiles()).toEqual(['default']);
    expect(h.fake.control.getCallLog()).toEqual([]);
  });

  it('deletes nothing when the journal holds no evidence that keyup made the key (written by an older keyup)', async () => {
    const { h, old, orphan } = await crashedWhileCreating({ evidence: false });
    expect(await h.rotate()).toMatchObject({ kind: 'failed', error: { code: 'second-active-key' } });
    expect(h.keysOf('alice').map((key) => key.accessKeyId)).toEqual([old.accessKeyId, orphan.accessKeyId]);
  });

  it('cleans up, without rotating, the journal of a profile no longer managed', async () => {
    const { h, old } = await crashedWhileCreating();
    expect(await h.rotator.recoverAll()).toEqual([]);
    expect(h.keysOf('alice').map((key) => key.accessKeyId)).toEqual([old.accessKeyId]);
    expect(await h.journal.listProfiles()).toEqual([]);
  });
});
