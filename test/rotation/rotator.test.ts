/**
 * The Rotator through the real AWS SDK against the emulator over HTTP: a rotation end to end,
 * manage_with, and the error shapes only the SDK makes (AccessDenied, InvalidClientTokenId,
 * Throttling, a socket that drops its answer, NoSuchEntity, ExpiredToken), and the SDK's own
 * credential chain kept out. Every other behaviour of the Rotator is tested on the in-memory
 * KeyApi and a fake clock in rotator.unit.test.ts.
 */
import { GetSessionTokenCommand, STSClient } from '@aws-sdk/client-sts';
import { afterEach, describe, expect, it } from 'vitest';
import { createRotationHarness, daysAgo, defaultSettings, type RotationHarness } from '../support/rotation-harness.js';

/** A hand-kept credentials file: comments, odd spacing, CRLF-free, other profiles around the target. */
function credentialsFile(keyId: string, secret: string, extra = ''): string {
  return [
    '# my AWS keys — do not share',
    '[other]',
    'aws_access_key_id = AKIAOTHEROTHEROTHER1',
    'aws_secret_access_key = other-secret',
    '',
    '[default]   ; the main one',
    `aws_access_key_id=${keyId}`,
    `aws_secret_access_key =   ${secret}`,
    'region = eu-west-1',
    extra,
  ].join('\n');
}

describe('Rotator against the emulator', () => {
  let h: RotationHarness;
  afterEach(async () => {
    await h?.close();
  });

  async function seedAlice(ageDays: number, options: Parameters<typeof createRotationHarness>[0] = {}) {
    h = await createRotationHarness(options);
    h.emulator.createUser({ userName: 'alice' });
    const key = h.emulator.createAccessKey({ userName: 'alice', createDate: daysAgo(ageDays) });
    await h.writeCredentials(credentialsFile(key.accessKeyId, key.secretAccessKey));
    return key;
  }

  function expectFileHolds(text: string, keyId: string, secret: string, original: string, oldKeyId: string, oldSecret: string) {
    // Only the two values differ: putting the old ones back gives the original bytes.
    expect(text.replace(keyId, oldKeyId).replace(secret, oldSecret)).toBe(original);
    expect(text).toContain(`aws_access_key_id=${keyId}\n`);
  }

  it('rotates a due key: new key in the file, old key deleted, history kept, journal kept only as the safety copy', async () => {
    const old = await seedAlice(100);
    const original = await h.readCredentials();
    const outcome = await h.rotate();
    expect(outcome).toMatchObject({ kind: 'rotated', profile: 'default', user: 'alice', oldKeyId: old.accessKeyId, holders: [{ file: 'credentials', profile: 'default' }] });
    const keys = h.keysOf('alice');
    expect(keys).toHaveLength(1);
    const fresh = keys[0]!;
    expect(fresh.accessKeyId).not.toBe(old.accessKeyId);
    expect(fresh.status).toBe('Active');
    expectFileHolds(await h.readCredentials(), fresh.accessKeyId, fresh.secretAccessKey, original, old.accessKeyId, old.secretAccessKey);

    const state = await h.readStateFiles();
    // Backups are copies of the credentials file (SPEC), taken before the rewrite: the retired
    // secret is in them by design, the new one never.
    const backups = [...state].filter(([path]) => path.includes('/backups/'));
    expect(backups).toHaveLength(1);
    expect(backups[0]![1]).toBe(original);
    for (const [path] of backups) state.delete(path);
    const history = JSON.parse(state.get(`${h.paths.stateDir}/history.json`)!) as unknown[];
    expect(history).toEqual([expect.objectContaining({ profile: 'default', oldKeyId: old.accessKeyId, newKeyId: fresh.accessKeyId, ok: true })]);
    // The journal stays as the rotation's safety copy of the new secret, and holds nothing else.
    const journals = [...state].filter(([path]) => path.includes('/journal/'));
    expect(journals.map(([path]) => path)).toEqual([`${h.paths.stateDir}/journal/default.json`]);
    expect(JSON.parse(journals[0]![1])).toMatchObject({ step: 'retired', newKey: { accessKeyId: fresh.accessKeyId, secretAccessKey: fresh.secretAccessKey } });
    expect(journals[0]![1]).not.toContain(old.secretAccessKey);
    state.delete(`${h.paths.stateDir}/journal/default.json`);
    // No secret of the run anywhere else but the credentials file: not in state, not in the log.
    for (const secret of [old.secretAccessKey, fresh.secretAccessKey]) {
      for (const [path, text] of state) expect(text, path).not.toContain(secret);
      expect(h.logLines.join('\n')).not.toContain(secret);
    }
  });

  describe('faults', () => {
    it('rides out a throttling storm on every action', async () => {
      await seedAlice(100);
      for (const action of ['GetCallerIdentity', 'ListAccessKeys', 'CreateAccessKey', 'DeleteAccessKey']) {
        h.emulator.injectFault({ kind: 'throttle', action, count: 3 });
      }
      h.emulator.injectFault({ kind: 'service-unavailable', action: 'CreateAccessKey', count: 1 });
      expect(await h.rotate()).toMatchObject({ kind: 'rotated' });
      expect(h.keysOf('alice')).toHaveLength(1);
      expect(h.emulator.getCallLog().filter((call) => call.errorCode === 'Throttling').length).toBe(12);
    });

    it('deletes the key of a CreateAccessKey whose answer was lost, then makes a new one', async () => {
      await seedAlice(100);
      h.emulator.injectFault({ kind: 'drop-response', action: 'CreateAccessKey', count: 1 });
      const outcome = await h.rotate();
      expect(outcome).toMatchObject({ kind: 'rotated' });
      const keys = h.keysOf('alice');
      expect(keys).toHaveLength(1);
      expect(keys[0]!.accessKeyId).toBe(outcome.kind === 'rotated' && outcome.newKeyId);
      expect(h.emulator.getCallLog().filter((call) => call.action === 'CreateAccessKey')).toHaveLength(2);
    });

    it('counts a lost answer to the delete of the old key as done', async () => {
      const old = await seedAlice(100);
      h.emulator.injectFault({ kind: 'drop-response', action: 'DeleteAccessKey', count: 1 });
      expect(await h.rotate()).toMatchObject({ kind: 'rotated' });
      expect(h.keysOf('alice').map((key) => key.accessKeyId)).not.toContain(old.accessKeyId);
    });
  });

  describe('temporary credentials', () => {
    async function addSession(durationSeconds = 900) {
      h.emulator.createUser({ userName: 'bob' });
      const bob = h.emulator.createAccessKey({ userName: 'bob' });
      const sts = new STSClient({ region: 'us-east-1', endpoint: h.emulator.endpoint, credentials: bob, maxAttempts: 1 });
      const { Credentials: session } = await sts.send(new GetSessionTokenCommand({ DurationSeconds: durationSeconds }));
      sts.destroy();
      const text = await h.readCredentials();
      await h.writeCredentials(
        `${text}\n[work-session]\naws_access_key_id = ${session!.AccessKeyId}\naws_secret_access_key = ${session!.SecretAccessKey}\naws_session_token = ${session!.SessionToken}\n`,
      );
      return session!;
    }

    it('defers while a session in the credentials file still works, and says which and until when', async () => {
      await seedAlice(100);
      await addSession();
      const outcome = await h.rotate();
      expect(outcome).toMatchObject({ kind: 'deferred', deferral: { reason: 'active-session', profile: 'work-session' } });
      expect(h.keysOf('alice')).toHaveLength(1);
    });

    it('does not defer for a session STS no longer accepts', async () => {
      await seedAlice(100);
      const session = await addSession();
      h.emulator.expireSessionToken({ accessKeyId: session.AccessKeyId! });
      expect(await h.rotate()).toMatchObject({ kind: 'rotated' });
    });
  });

  describe('another user’s key through manage_with', () => {
    it('makes the IAM calls as the admin, names the bot user, and verifies the new key with itself', async () => {
      h = await createRotationHarness();
      h.emulator.createUser({ userName: 'admin', admin: true });
      h.emulator.createUser({ userName: 'ci-bot', path: '/bots/' });
      const admin = h.emulator.createAccessKey({ userName: 'admin' });
      const bot = h.emulator.createAccessKey({ userName: 'ci-bot', createDate: daysAgo(100) });
      await h.writeCredentials(
        `[admin]\naws_access_key_id = ${admin.accessKeyId}\naws_secret_access_key = ${admin.secretAccessKey}\n\n[ci-bot]\naws_access_key_id = ${bot.accessKeyId}\naws_secret_access_key = ${bot.secretAccessKey}\n`,
      );
      const outcome = await h.rotate({ profile: 'ci-bot', settings: { ...defaultSettings, manageWith: 'admin' } });
      expect(outcome).toMatchObject({ kind: 'rotated', user: 'ci-bot', holders: [{ file: 'credentials', profile: 'ci-bot' }] });
      const fresh = h.keysOf('ci-bot')[0]!;
      const calls = h.emulator.getCallLog();
      for (const action of ['ListAccessKeys', 'CreateAccessKey', 'DeleteAccessKey']) {
        expect(calls.filter((call) => call.action === action).every((call) => call.accessKeyId === admin.accessKeyId)).toBe(true);
      }
      expect(calls.some((call) => call.action === 'GetCallerIdentity' && call.accessKeyId === fresh.accessKeyId)).toBe(true);
      expect(h.keysOf('admin').map((key) => key.accessKeyId)).toEqual([admin.accessKeyId]);
    });
  });

  describe('errors a user can meet', () => {
    it('names the refused action and the policy that grants it', async () => {
      h = await createRotationHarness();
      h.emulator.createUser({ userName: 'alice', deniedActions: ['iam:CreateAccessKey'] });
      const key = h.emulator.createAccessKey({ userName: 'alice', createDate: daysAgo(100) });
      await h.writeCredentials(credentialsFile(key.accessKeyId, key.secretAccessKey));
      const outcome = await h.rotate();
      expect(outcome.kind === 'failed' && outcome.error.message).toBe('IAM refused iam:CreateAccessKey on user alice for profile default: its identity is not allowed to call it.');
      expect(outcome.kind === 'failed' && outcome.error.hint).toContain('"iam:CreateAccessKey"');
      expect(h.keysOf('alice')).toHaveLength(1);
      // A refused create made no key, so the rotation must not leave a journal (not even a safety copy).
      expect([...(await h.readStateFiles()).keys()].filter((path) => path.includes('/journal/'))).toEqual([]);
    });

    it('says the key in the profile is not valid when STS refuses it', async () => {
      await seedAlice(100);
      h.emulator.reset();
      const outcome = await h.rotate();
      expect(outcome.kind === 'failed' && outcome.error.message).toMatch(/^The key AKIA…\w{4} in profile default is not valid: AWS does not accept it\.$/);
    });

    it('never lets credentials from the environment sign a call meant for the profile', async () => {
      const old = await seedAlice(100);
      h.emulator.createUser({ userName: 'intruder', admin: true });
      const intruder = h.emulator.createAccessKey({ userName: 'intruder' });
      const saved = { ...process.env };
      Object.assign(process.env, { AWS_ACCESS_KEY_ID: intruder.accessKeyId, AWS_SECRET_ACCESS_KEY: intruder.secretAccessKey, AWS_PROFILE: 'other' });
      try {
        expect(await h.rotate()).toMatchObject({ kind: 'rotated', oldKeyId: old.accessKeyId });
      } finally {
        process.env = saved;
      }
      expect(h.emulator.getCallLog().some((call) => call.accessKeyId === intruder.accessKeyId)).toBe(false);
    });
  });
});
