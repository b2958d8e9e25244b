import { IAMClient, ListAccessKeysCommand } from '@aws-sdk/client-iam';
import { GetSessionTokenCommand, STSClient } from '@aws-sdk/client-sts';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
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

  it('does not call a finished rotation failed when its history cannot be written', async () => {
    await seedAlice(100);
    await mkdir(join(h.paths.stateDir, 'history.json'), { recursive: true });
    expect(await h.rotate()).toMatchObject({ kind: 'rotated' });
    expect(h.keysOf('alice')).toHaveLength(1);
    expect(h.logLines.some((line) => line.includes('Could not record the rotation of profile default'))).toBe(true);
    expect(JSON.parse((await h.readStateFiles()).get(`${h.paths.stateDir}/journal/default.json`) ?? '{}')).toMatchObject({ step: 'retired' });
  });

  it('leaves a key that is not due alone and says how old it is', async () => {
    await seedAlice(10);
    const before = await h.readCredentials();
    const outcome = await h.rotate();
    expect(outcome).toMatchObject({ kind: 'current', ageState: 'ok' });
    expect(outcome.kind === 'current' && outcome.ageDays).toBeCloseTo(10, 1);
    expect(await h.readCredentials()).toBe(before);
    expect(h.keysOf('alice')).toHaveLength(1);
  });

  it('warns from warn_age_days and rotates anything when asked to rotate now', async () => {
    await seedAlice(85);
    expect(await h.rotate()).toMatchObject({ kind: 'current', ageState: 'warn' });
    expect(await h.rotate({ ignoreAge: true })).toMatchObject({ kind: 'rotated' });
  });

  it('deactivates instead of deleting when old_key = deactivate', async () => {
    const old = await seedAlice(100);
    await h.rotate({ settings: { ...defaultSettings, oldKey: 'deactivate' } });
    const keys = h.keysOf('alice');
    expect(keys).toHaveLength(2);
    expect(keys.find((key) => key.accessKeyId === old.accessKeyId)?.status).toBe('Inactive');
  });

  it('writes the new key to every profile that held the old one', async () => {
    h = await createRotationHarness();
    h.emulator.createUser({ userName: 'alice' });
    const key = h.emulator.createAccessKey({ userName: 'alice', createDate: daysAgo(100) });
    await h.writeCredentials(credentialsFile(key.accessKeyId, key.secretAccessKey, `[copy]\naws_access_key_id = ${key.accessKeyId}\naws_secret_access_key = ${key.secretAccessKey}\n`));
    const outcome = await h.rotate();
    expect(outcome).toMatchObject({ kind: 'rotated', holders: [{ file: 'credentials', profile: 'default' }, { file: 'credentials', profile: 'copy' }] });
    expect((await h.readCredentials()).split(h.keysOf('alice')[0]!.accessKeyId)).toHaveLength(3);
  });

  describe('a user with two keys', () => {
    it('deletes an inactive second key first', async () => {
      await seedAlice(100);
      const spare = h.emulator.createAccessKey({ userName: 'alice', status: 'Inactive', createDate: daysAgo(300) });
      expect(await h.rotate()).toMatchObject({ kind: 'rotated' });
      expect(h.keysOf('alice').map((key) => key.accessKeyId)).not.toContain(spare.accessKeyId);
      expect(h.keysOf('alice')).toHaveLength(1);
    });

    it('never deletes an active second key: stops and names it', async () => {
      const old = await seedAlice(100);
      const spare = h.emulator.createAccessKey({ userName: 'alice', createDate: daysAgo(5) });
      const before = await h.readCredentials();
      const outcome = await h.rotate();
      expect(outcome.kind).toBe('failed');
      expect(outcome.kind === 'failed' && outcome.error.message).toContain(`second active key ${spare.accessKeyId}`);
      expect(outcome.kind === 'failed' && outcome.error.hint).toContain(`--access-key-id ${spare.accessKeyId} --status Inactive`);
      expect(h.keysOf('alice').map((key) => key.accessKeyId).sort()).toEqual([old.accessKeyId, spare.accessKeyId].sort());
      expect(await h.readCredentials()).toBe(before);
    });
  });

  describe('IAM eventual consistency', () => {
    it('waits for a new key that STS refuses for 8 seconds', { timeout: 40_000 }, async () => {
      await seedAlice(100, { activationDelayMs: 8_000 });
      const started = Date.now();
      expect(await h.rotate()).toMatchObject({ kind: 'rotated' });
      expect(Date.now() - started).toBeGreaterThanOrEqual(8_000);
      const refusals = h.emulator.getCallLog().filter((call) => call.action === 'GetCallerIdentity' && call.errorCode === 'InvalidClientTokenId');
      expect(refusals.length).toBeGreaterThan(0);
    });

    it('waits out IAM refusing the new key when it retires the old one', async () => {
      const old = await seedAlice(100, { activationDelayMs: { sts: 0, iam: 1_500 } });
      expect(await h.rotate()).toMatchObject({ kind: 'rotated' });
      expect(h.keysOf('alice').map((key) => key.accessKeyId)).not.toContain(old.accessKeyId);
    });

    it('takes the new key back when it never works, and keeps the old one in service', async () => {
      h = await createRotationHarness({ activationDelayMs: 60_000 }, { confirmDelayMs: 50, initialDelayMs: 50, maxDelayMs: 200, timeoutMs: 1_500 });
      h.emulator.createUser({ userName: 'alice' });
      const old = h.emulator.createAccessKey({ userName: 'alice', createDate: daysAgo(100) });
      await h.writeCredentials(credentialsFile(old.accessKeyId, old.secretAccessKey));
      const before = await h.readCredentials();
      const outcome = await h.rotate();
      expect(outcome.kind === 'failed' && outcome.error.message).toBe('The new key was not accepted by AWS within 2 seconds.');
      expect(h.keysOf('alice').map((key) => key.accessKeyId)).toEqual([old.accessKeyId]);
      expect(await h.readCredentials()).toBe(before);
      expect(await h.rotator.rotate({ profile: 'default', settings: defaultSettings })).toMatchObject({ kind: 'failed' });
    });
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

    it('rotates anyway with --force', async () => {
      await seedAlice(100);
      await addSession();
      expect(await h.rotate({ ignoreSessions: true })).toMatchObject({ kind: 'rotated' });
    });

    it('honours defer_on_sessions = false', async () => {
      await seedAlice(100);
      await addSession();
      expect(await h.rotate({ settings: { ...defaultSettings, deferOnSessions: false } })).toMatchObject({ kind: 'rotated' });
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
      expect(await h.readStateFiles()).not.toContain(expect.stringContaining('journal'));
    });

    it('gives a manage_with identity that IAM refuses a policy on the managed user, not on itself', async () => {
      h = await createRotationHarness();
      h.emulator.createUser({ userName: 'helpdesk', deniedActions: ['iam:ListAccessKeys'] });
      h.emulator.createUser({ userName: 'ci-bot', path: '/bots/' });
      const helpdesk = h.emulator.createAccessKey({ userName: 'helpdesk' });
      const bot = h.emulator.createAccessKey({ userName: 'ci-bot', createDate: daysAgo(100) });
      await h.writeCredentials(
        `[helpdesk]\naws_access_key_id = ${helpdesk.accessKeyId}\naws_secret_access_key = ${helpdesk.secretAccessKey}\n[ci-bot]\naws_access_key_id = ${bot.accessKeyId}\naws_secret_access_key = ${bot.secretAccessKey}\n`,
      );
      const outcome = await h.rotate({ profile: 'ci-bot', settings: { ...defaultSettings, manageWith: 'helpdesk' } });
      expect(outcome.kind === 'failed' && outcome.error.message).toBe('IAM refused iam:ListAccessKeys on user ci-bot for profile ci-bot: its identity is not allowed to call it.');
      expect(outcome.kind === 'failed' && outcome.error.hint).toContain(`"Resource":"arn:aws:iam::${h.emulator.accountId}:user/bots/ci-bot"`);
    });

    it('says why a profile whose role the AWS config decides is not rotated', async () => {
      h = await createRotationHarness();
      await h.writeCredentials('[default]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = s\n');
      await writeFile(h.paths.awsConfigFile, '[default]\nrole_arn = arn:aws:iam::123456789012:role/admin\nsource_profile = base\n');
      const outcome = await h.rotate();
      expect(outcome.kind === 'failed' && outcome.error.message).toBe(
        'Profile default gets its credentials another way (a role, SSO, credential_process, or keys in the AWS config file), and keyup rotates only long-term access keys in the credentials file.',
      );
    });

    it('says the key in the profile is not valid when STS refuses it', async () => {
      await seedAlice(100);
      h.emulator.reset();
      const outcome = await h.rotate();
      expect(outcome.kind === 'failed' && outcome.error.message).toMatch(/^The key AKIA…\w{4} in profile default is not valid: AWS does not accept it\.$/);
    });

    it('refuses a profile that holds temporary credentials', async () => {
      h = await createRotationHarness();
      await h.writeCredentials('[default]\naws_access_key_id = ASIAXXXXXXXXXXXXXXXX\naws_secret_access_key = s\naws_session_token = t\n');
      const outcome = await h.rotate();
      expect(outcome.kind === 'failed' && outcome.error.message).toBe('Profile default holds temporary credentials, and keyup rotates only long-term access keys in the credentials file.');
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

  it('lists keys with the real SDK the same way after a rotation (sanity of the emulator state)', async () => {
    await seedAlice(100);
    const outcome = await h.rotate();
    const fresh = h.keysOf('alice')[0]!;
    const iam = new IAMClient({ region: 'us-east-1', endpoint: h.emulator.endpoint, credentials: fresh, maxAttempts: 1 });
    const listed = await iam.send(new ListAccessKeysCommand({}));
    iam.destroy();
    expect(listed.AccessKeyMetadata?.map((key) => key.AccessKeyId)).toEqual([outcome.kind === 'rotated' && outcome.newKeyId]);
  });
});
